/* The KPI editor's scoring curve (designer/_scoring_curve.html): as the scoring rule is typed, the
 * points it gives across a range of values are drawn with the vendored Chart.js, and test points
 * are listed under it — the rule's own landmarks (its ends, its band thresholds) and values people
 * add. Every point comes from the server, which scores with the engine's own code
 * (/api/v1/formulas/scoring-curve): one way of working points out, for linear, bands and formula
 * rules alike. The rule is read from the form as saving reads it (designer/kpis.py). */
(function () {
  "use strict";

  var box = document.getElementById("scoring-curve");
  var form = document.getElementById("kpi-form");
  if (!box || !form) { return; }
  var S = JSON.parse(document.getElementById("scoring-curve-strings").textContent);
  var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  var typeSelect = document.getElementById("scoring_type");
  var fromInput = document.getElementById("curve-from");
  var toInput = document.getElementById("curve-to");
  var targetInput = document.getElementById("curve-target");
  var testInput = document.getElementById("curve-test");
  var status = box.querySelector(".curve-status");
  var testsBody = box.querySelector(".curve-points tbody");
  var LINEAR = ["value_from", "value_to", "points_from", "points_to", "floor", "cap"];
  var SAMPLES = 100, MAX_OWN_TESTS = 20;
  var BLUE = "#2f6fb0", ORANGE = "#b54708";
  var ownTests = [], chart = null, timer = null, asked = 0;

  /* A rule's field as saving reads it: a number when it is one, the text otherwise (the server
   * says what is wrong with it), left out when empty. */
  function ruleNumber(text) {
    var trimmed = String(text || "").trim();
    if (!trimmed) { return undefined; }
    var value = Number(trimmed);
    return isFinite(value) ? value : trimmed;
  }

  /* A value people type to try: 0.95, 95% or 1,200; null when empty, NaN when not a number. */
  function typedValue(text) {
    var trimmed = String(text || "").trim().replace(/,/g, "");
    if (!trimmed) { return null; }
    var percent = /%$/.test(trimmed);
    var value = Number(percent ? trimmed.slice(0, -1) : trimmed);
    return isFinite(value) ? (percent ? value / 100 : value) : NaN;
  }

  function isNumber(value) { return typeof value === "number" && isFinite(value); }

  function rule() {
    var type = typeSelect.value, scoring = { type: type };
    if (type === "linear") {
      LINEAR.forEach(function (key) {
        var value = ruleNumber(document.getElementById(key).value);
        if (value !== undefined) { scoring[key] = value; }
      });
    } else if (type === "bands") {
      scoring.bands = [];
      Array.prototype.forEach.call(form.querySelectorAll("tbody.bands [data-row=band]"), function (row) {
        var band = {};
        var min = ruleNumber(row.querySelector("[data-field=min]").value);
        var points = ruleNumber(row.querySelector("[data-field=points]").value);
        if (min !== undefined) { band.min = min; }
        if (points !== undefined) { band.points = points; }
        if (min !== undefined || points !== undefined) { scoring.bands.push(band); }
      });
      var otherwise = ruleNumber(document.getElementById("otherwise").value);
      if (otherwise !== undefined) { scoring.otherwise = otherwise; }
    } else {
      scoring.formula = document.getElementById("scoring_formula").value.trim();
    }
    return scoring;
  }

  function target() {
    var value = typedValue(targetInput.value);
    return isNumber(value) ? value : null;
  }

  /* Where the rule changes, with room on both sides; a formula's from 0 to half again its target. */
  function autoRange(scoring) {
    var low = null, high = null;
    if (scoring.type === "linear" && isNumber(scoring.value_from) && isNumber(scoring.value_to)) {
      low = Math.min(scoring.value_from, scoring.value_to);
      high = Math.max(scoring.value_from, scoring.value_to);
    } else if (scoring.type === "bands") {
      var minima = (scoring.bands || []).map(function (band) { return band.min; }).filter(isNumber);
      if (minima.length) { low = Math.min.apply(null, minima); high = Math.max.apply(null, minima); }
    } else if (scoring.type === "formula") {
      var t = target();
      return [0, t ? Math.abs(t) * 1.5 : 1.5];
    }
    if (low === null) { return [0, 1]; }
    var span = high - low || Math.abs(high) || 1;
    return [low - span * 0.25, high + span * 0.25];
  }

  function range(scoring) {
    var auto = autoRange(scoring);
    fromInput.placeholder = tidy(auto[0]);
    toInput.placeholder = tidy(auto[1]);
    var from = typedValue(fromInput.value), to = typedValue(toInput.value);
    from = isNumber(from) ? from : auto[0];
    to = isNumber(to) ? to : auto[1];
    return to > from ? [from, to] : [to, from === to ? from + 1 : from];
  }

  /* The rule's own landmarks: where a line starts and ends (and a little beyond, to show the cap),
   * each band's threshold and just under the lowest, a formula's target and around it. */
  function landmarks(scoring) {
    var found = [];
    if (scoring.type === "linear" && isNumber(scoring.value_from) && isNumber(scoring.value_to)) {
      var a = scoring.value_from, b = scoring.value_to;
      found = [a, (a + b) / 2, b, b + (b - a) / 4];
    } else if (scoring.type === "bands") {
      var minima = (scoring.bands || []).map(function (band) { return band.min; }).filter(isNumber);
      found = minima.slice();
      if (minima.length) {
        var lowest = Math.min.apply(null, minima), highest = Math.max.apply(null, minima);
        found.push(lowest - ((highest - lowest) / 4 || Math.abs(lowest) / 4 || 1));
      }
    } else if (scoring.type === "formula") {
      var t = target() || 1;
      found = [0, t / 2, t, t * 1.2];
    }
    return found.map(function (value) { return Number(value.toPrecision(12)); });
  }

  function samples(scoring, span) {
    var values = [];
    for (var i = 0; i <= SAMPLES; i++) { values.push(span[0] + (span[1] - span[0]) * i / SAMPLES); }
    if (scoring.type === "bands") {  // a step is drawn upright: each threshold and a hair under it
      (scoring.bands || []).forEach(function (band) {
        if (isNumber(band.min) && band.min > span[0] && band.min < span[1]) {
          values.push(band.min, band.min - (span[1] - span[0]) * 1e-6);
        }
      });
    }
    return values.sort(function (x, y) { return x - y; });
  }

  function percent() {
    var format = document.getElementById("format");
    return format && format.value.trim() === "percent";
  }

  function tidy(value) { return String(Number(Number(value).toPrecision(6))); }

  function shown(value) {
    if (!isNumber(value)) { return ""; }
    if (percent()) { return Number((value * 100).toPrecision(6)).toLocaleString() + "%"; }
    return Number(value.toPrecision(8)).toLocaleString(undefined, { maximumFractionDigits: 6 });
  }

  function draw(line, dots) {
    if (!window.Chart) { return; }
    if (chart) {
      chart.data.datasets[0].data = line;
      chart.data.datasets[1].data = dots;
      chart.update();
      return;
    }
    chart = new window.Chart(document.getElementById("curve-chart"), {
      type: "line",
      data: { datasets: [
        { label: S.points, data: line, borderColor: BLUE, backgroundColor: BLUE, borderWidth: 2, pointRadius: 0,
          tension: 0, spanGaps: false },
        { type: "scatter", label: S.tests, data: dots, borderColor: ORANGE, backgroundColor: ORANGE, pointRadius: 4 }
      ] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "nearest", intersect: false },
        scales: {
          x: { type: "linear", title: { display: true, text: S.value }, ticks: { callback: shown } },
          y: { suggestedMin: 0, title: { display: true, text: S.points } }
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (context) {
            return shown(context.parsed.x) + " → " + Number(context.parsed.y.toPrecision(8));
          } } }
        }
      }
    });
  }

  function testRow(value, points, error, own) {
    var row = document.createElement("tr");
    var valueCell = document.createElement("td");
    valueCell.className = "num";
    valueCell.textContent = shown(value);
    var pointsCell = document.createElement("td");
    pointsCell.className = "num";
    pointsCell.textContent = isNumber(points) ? String(Number(points.toPrecision(8))) : (error || S.no_points);
    var tools = document.createElement("td");
    if (own) {
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-sm btn-light text-danger";
      remove.textContent = "✕";
      remove.setAttribute("aria-label", S.remove + " " + shown(value));
      remove.addEventListener("click", function () {
        ownTests.splice(ownTests.indexOf(value), 1);
        redraw();
      });
      tools.appendChild(remove);
    }
    row.appendChild(valueCell);
    row.appendChild(pointsCell);
    row.appendChild(tools);
    return row;
  }

  function redraw() {
    var scoring = rule();
    box.querySelector("[data-curve-only=formula]").hidden = scoring.type !== "formula";
    var line = samples(scoring, range(scoring));
    var marks = landmarks(scoring);
    var tests = marks.concat(ownTests);
    var body = JSON.stringify({ scoring: scoring, values: line.concat(tests),
                                target: scoring.type === "formula" ? target() : null });
    var mine = ++asked;
    fetch(box.dataset.url, { method: "POST", credentials: "same-origin", body: body,
                             headers: { "Content-Type": "application/json", "Accept": "application/json",
                                        "X-CSRFToken": csrf } })
      .then(function (response) {
        return response.json().then(function (answer) { return { status: response.status, answer: answer }; });
      })
      .then(function (result) {
        if (mine !== asked) { return; }  // a newer rule is being worked out
        testsBody.textContent = "";
        if (result.status !== 200) {
          var problems = (result.answer.errors || []).map(function (problem) {
            return String(problem.path || "").replace(/^json\.(scoring\.)?/, "") + ": " + problem.message;
          });
          status.textContent = S.incomplete + " " + (problems.join("; ") || result.answer.message || "");
          draw([], []);
          return;
        }
        var points = result.answer.points, errors = result.answer.errors;
        status.textContent = result.answer.rule;
        draw(line.map(function (x, i) { return { x: x, y: points[i] }; }),
             tests.map(function (x, i) { return { x: x, y: points[line.length + i] }; })
               .filter(function (dot) { return dot.y !== null; }));
        tests.forEach(function (value, i) {
          var at = line.length + i;
          testsBody.appendChild(testRow(value, points[at], errors[at], i >= marks.length));
        });
      })
      .catch(function () { if (mine === asked) { status.textContent = S.unreachable; } });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(redraw, 250);
  }

  function addTest() {
    var value = typedValue(testInput.value);
    if (value === null) { return; }
    if (!isNumber(value)) {
      status.textContent = S.not_a_number;
      testInput.focus();
      return;
    }
    if (ownTests.indexOf(value) < 0) {
      ownTests.push(value);
      if (ownTests.length > MAX_OWN_TESTS) { ownTests.shift(); }
    }
    testInput.value = "";
    redraw();
  }

  form.addEventListener("input", function (event) { if (event.target !== testInput) { schedule(); } });
  form.addEventListener("change", function (event) { if (event.target !== testInput) { schedule(); } });
  form.addEventListener("click", function (event) {  // a band added or removed
    if (event.target.closest("[data-action$=band]")) { schedule(); }
  });
  box.addEventListener("keydown", function (event) {  // Enter here tries a value; it does not save the KPI
    if (event.key === "Enter" && event.target.tagName === "INPUT") {
      event.preventDefault();
      if (event.target === testInput) { addTest(); } else { redraw(); }
    }
  });
  document.getElementById("curve-add").addEventListener("click", addTest);
  redraw();
}());
