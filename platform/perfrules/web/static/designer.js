/* The template designer: add, remove and reorder sections, items and grade bands; show the
 * sums of weights as people type (red when a strict template does not add up to 100), and each
 * item's weight in the total. The server checks everything again when the form is saved. */
(function () {
  "use strict";

  var form = document.getElementById("template-form");
  if (!form) { return; }
  var strings = JSON.parse(document.getElementById("designer-strings").textContent);
  var sectionsBox = document.getElementById("sections");
  var gradesBody = form.querySelector("tbody.grades");
  var modeSelect = document.getElementById("weights");
  var TOLERANCE = 1e-6;
  var dirty = false;

  function rowsOf(container, kind) {
    return Array.prototype.filter.call(container.children, function (el) { return el.dataset.row === kind; });
  }

  function fields(row, ownOnly) {
    return Array.prototype.filter.call(row.querySelectorAll("[data-field]"), function (el) {
      return !ownOnly || el.closest("[data-row]") === row;
    });
  }

  /* Names follow the order on the page: s-0-weight, s-0-it-1-kpi, g-2-min … */
  function renumber() {
    rowsOf(sectionsBox, "section").forEach(function (section, s) {
      fields(section, true).forEach(function (el) { el.name = "s-" + s + "-" + el.dataset.field; });
      rowsOf(section.querySelector("tbody.items"), "item").forEach(function (item, i) {
        fields(item, true).forEach(function (el) { el.name = "s-" + s + "-it-" + i + "-" + el.dataset.field; });
      });
    });
    rowsOf(gradesBody, "grade").forEach(function (grade, k) {
      fields(grade, true).forEach(function (el) { el.name = "g-" + k + "-" + el.dataset.field; });
    });
  }

  function number(input) {
    var text = (input.value || "").trim();
    if (text === "") { return { value: 0, ok: false, empty: true }; }
    var value = Number(text);
    return { value: isFinite(value) ? value : 0, ok: isFinite(value) && value > 0, empty: false };
  }

  function format(value) {
    return (Math.round(value * 100) / 100).toString();
  }

  function mark(sumElement, total, count) {
    var strict = modeSelect.value !== "normalise";
    var good = strict ? Math.abs(total - 100) <= TOLERANCE : total > 0;
    sumElement.classList.toggle("good", good && count > 0);
    sumElement.classList.toggle("bad", !good || count === 0);
    sumElement.querySelector(".sum-value").textContent = format(total);
    var hint = sumElement.querySelector(".sum-hint");
    if (!hint) {
      hint = document.createElement("span");
      hint.className = "sum-hint";
      sumElement.appendChild(hint);
    }
    hint.textContent = strict ? (good ? " ✓" : " — " + strings.strict_bad)
                              : (good ? " → " + strings.normalise : " — " + strings.normalise_bad);
    return good;
  }

  function flagInput(input, parsed) {
    var wrong = !parsed.empty && !parsed.ok;
    input.classList.toggle("is-invalid-live", wrong);
  }

  function recompute() {
    var sections = rowsOf(sectionsBox, "section");
    var sectionTotal = 0;
    var perSection = sections.map(function (section) {
      var weightInput = section.querySelector(".section-weight-input");
      var parsed = number(weightInput);
      flagInput(weightInput, parsed);
      sectionTotal += parsed.value;
      var items = rowsOf(section.querySelector("tbody.items"), "item");
      var itemWeights = items.map(function (item) {
        var input = item.querySelector(".item-weight-input");
        var p = number(input);
        flagInput(input, p);
        return p.value;
      });
      var itemTotal = itemWeights.reduce(function (a, b) { return a + b; }, 0);
      mark(section.querySelector(".items-sum"), itemTotal, items.length);
      return { weight: parsed.value, items: items, weights: itemWeights, total: itemTotal };
    });
    mark(document.getElementById("sections-sum"), sectionTotal, sections.length);
    perSection.forEach(function (s) {
      s.items.forEach(function (item, i) {
        var cell = item.querySelector(".item-share");
        if (sectionTotal > 0 && s.total > 0) {
          cell.textContent = format(100 * (s.weight / sectionTotal) * (s.weights[i] / s.total));
        } else {
          cell.textContent = "—";
        }
      });
    });
  }

  function showKind(item) {
    var kind = item.querySelector("[data-field=kind]").value;
    item.dataset.kind = kind;
    Array.prototype.forEach.call(item.querySelectorAll("[data-show]"), function (el) {
      el.hidden = el.dataset.show !== kind;
    });
  }

  function fromTemplate(id) {
    var template = document.getElementById(id);
    return template.content.firstElementChild.cloneNode(true);
  }

  function changed() {
    dirty = true;
    renumber();
    recompute();
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button || !form.contains(button)) { return; }
    var action = button.dataset.action;
    var row = button.closest("[data-row]");
    if (action === "add-section") {
      var section = fromTemplate("section-template");
      sectionsBox.appendChild(section);
      rowsOf(section.querySelector("tbody.items"), "item").forEach(showKind);
      section.querySelector("[data-field=name]").focus();
    } else if (action === "add-item") {
      var item = fromTemplate("item-template");
      button.closest("[data-row=section]").querySelector("tbody.items").appendChild(item);
      showKind(item);
      item.querySelector("[data-field=kpi]").focus();
    } else if (action === "add-grade") {
      var grade = fromTemplate("grade-template");
      gradesBody.appendChild(grade);
      grade.querySelector("[data-field=grade]").focus();
    } else if (action === "remove" && row) {
      if (row.dataset.row === "section" && !window.confirm(strings.confirm_remove)) { return; }
      row.remove();
    } else if (action === "up" && row && row.previousElementSibling) {
      row.parentNode.insertBefore(row, row.previousElementSibling);
    } else if (action === "down" && row && row.nextElementSibling) {
      row.parentNode.insertBefore(row.nextElementSibling, row);
    } else {
      return;
    }
    changed();
  });

  form.addEventListener("input", function () { dirty = true; recompute(); });
  form.addEventListener("change", function (event) {
    if (event.target.matches("[data-field=kind]")) { showKind(event.target.closest("[data-row=item]")); }
    dirty = true;
    recompute();
  });
  form.addEventListener("submit", function () { renumber(); dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  Array.prototype.forEach.call(form.querySelectorAll("[data-row=item]"), showKind);
  renumber();
  recompute();
}());

/* The KPI editor: the scoring rule's fields for the chosen type, and its bands. */
(function () {
  "use strict";

  var form = document.getElementById("kpi-form");
  if (!form) { return; }
  var typeSelect = document.getElementById("scoring_type");
  var bands = form.querySelector("tbody.bands");

  function showType() {
    Array.prototype.forEach.call(form.querySelectorAll("[data-scoring]"), function (part) {
      part.hidden = part.dataset.scoring !== typeSelect.value;
    });
  }

  function renumber() {
    Array.prototype.forEach.call(bands.querySelectorAll("[data-row=band]"), function (row, k) {
      Array.prototype.forEach.call(row.querySelectorAll("[data-field]"), function (input) {
        input.name = "b-" + k + "-" + input.dataset.field;
      });
    });
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) { return; }
    if (button.dataset.action === "add-band") {
      var row = document.getElementById("band-template").content.firstElementChild.cloneNode(true);
      bands.appendChild(row);
      row.querySelector("input").focus();
    } else if (button.dataset.action === "remove-band") {
      button.closest("[data-row=band]").remove();
    }
    renumber();
  });
  typeSelect.addEventListener("change", showType);
  form.addEventListener("submit", renumber);
  showType();
  renumber();
}());
