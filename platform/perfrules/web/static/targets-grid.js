/* The target-set editor's grid: add and remove rows; show a row's month shares and their sum;
 * offer employees as a code or a name is typed (a search, not a list of everyone); paste a block
 * from Excel — into the paste box or straight into a cell — which the server reads into rows
 * (/designer/targets/paste-rows); and check the grid as people type: the server answers each
 * row's words and the problems at their cells (/designer/targets/…/check-rows). Saving posts the
 * form; the server checks everything again. */
(function () {
  "use strict";

  var form = document.getElementById("targets-form");
  if (!form) { return; }
  var S = JSON.parse(document.getElementById("targets-strings").textContent);
  var grid = document.getElementById("targets-grid");
  var template = document.getElementById("entry-template");
  var employeeList = document.getElementById("target-employees");
  var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  var CELLS = ["name", "period", "holder", "value", "split", "weight_attribute", "split_role", "decimals"];
  var LISTS = { employee: "target-employees", department: "target-departments", role: "target-roles" };
  var CELL_OF_COLUMN = { holder_kind: "holder", employee: "holder", department: "holder", role: "holder",
                         weight_attribute: "weight_attribute", split_role: "split_role" };
  var checkTimer = null, searchTimer = null, lastSearch = null, checking = 0;

  function words(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, key) { return values[key] !== undefined ? values[key] : all; });
  }

  function rows() { return Array.prototype.slice.call(grid.querySelectorAll("tbody.entry")); }

  function field(row, name) { return row.querySelector("[data-field='" + name + "']"); }

  function months(row) {
    var found = [];
    for (var m = 1; m <= 12; m++) { found.push(field(row, "m-" + m)); }
    return found;
  }

  function isBlank(row) {
    return CELLS.every(function (name) { return !field(row, name).value.trim(); }) &&
      months(row).every(function (input) { return !input.value.trim(); });
  }

  /* Names, ids and labels follow the order on the page: e-0-value, e-1-m-7 … */
  function renumber() {
    rows().forEach(function (row, i) {
      Array.prototype.forEach.call(row.querySelectorAll("[name], [id], [for], [aria-controls]"), function (el) {
        ["name", "id", "for", "aria-controls"].forEach(function (attribute) {
          var value = el.getAttribute(attribute);
          if (value && /^e-(\d+|__I__)-/.test(value)) {
            el.setAttribute(attribute, value.replace(/^e-(\d+|__I__)-/, "e-" + i + "-"));
          }
        });
      });
    });
  }

  function showSplit(row) {
    var split = field(row, "split").value;
    Array.prototype.forEach.call(row.querySelectorAll("[data-show-split]"), function (el) {
      el.hidden = !split || (el.dataset.showSplit !== "any" && el.dataset.showSplit !== split);
    });
  }

  function holderList(row) {
    field(row, "holder").setAttribute("list", LISTS[field(row, "holder_kind").value] || LISTS.employee);
  }

  function monthsSum(row) {
    var given = months(row).filter(function (input) { return input.value.trim() !== ""; });
    var sum = given.reduce(function (total, input) { return total + (Number(input.value.replace(/,/g, "")) || 0); }, 0);
    var out = row.querySelector(".months-sum");
    out.textContent = given.length ? words(S.sum, { sum: Math.round(sum * 1e6) / 1e6 }) : "";
    out.classList.toggle("bad", given.length > 0 && Math.abs(sum - 100) > 1e-6);
    row.querySelector(".months-summary").textContent = given.length ? " ✓" : "";
  }

  function prepare(row) { showSplit(row); holderList(row); monthsSum(row); }

  function choose(select, value) {
    if (value && !Array.prototype.some.call(select.options, function (o) { return o.value === value; })) {
      var option = document.createElement("option");
      option.value = value;
      option.textContent = value;
      select.appendChild(option);
    }
    select.value = value || "";
  }

  function fill(row, cells) {
    ["name", "holder_kind", "split"].forEach(function (name) { choose(field(row, name), cells[name]); });
    CELLS.forEach(function (name) {
      var input = field(row, name);
      if (input.tagName === "INPUT") { input.value = cells[name] || ""; }
    });
    var shares = cells.month_shares || [];
    months(row).forEach(function (input, m) { input.value = shares[m] || ""; });
    if (shares.length) { openMonths(row, true); }
  }

  function addRow(cells, before) {
    var row = template.content.firstElementChild.cloneNode(true);
    grid.insertBefore(row, before || grid.querySelector("tfoot"));
    renumber();
    if (cells) { fill(row, cells); }
    prepare(row);
    return row;
  }

  function openMonths(row, open) {
    var line = row.querySelector(".months-line");
    line.dataset.open = open ? "yes" : "no";
    row.querySelector("[data-action=months]").setAttribute("aria-expanded", open ? "true" : "false");
  }

  /* --- problems at their cells ----------------------------------------------------------- */

  function clearProblems() {
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (el) { el.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll(".is-invalid"), function (el) { el.classList.remove("is-invalid"); });
    document.getElementById("grid-problems").textContent = "";
  }

  function showProblem(container, message, input) {
    var note = document.createElement("div");
    note.className = "invalid-feedback d-block field-error";
    note.textContent = message;
    container.appendChild(note);
    var controls = input ? [input] : container.querySelectorAll("input:not([type=hidden]), select");
    Array.prototype.forEach.call(controls, function (el) { el.classList.add("is-invalid"); });
  }

  function cellOf(row, key, index) {
    if (key === "month_shares" || /^m-\d+$/.test(key)) {
      openMonths(row, true);
      return { container: row.querySelector(".month-shares"),
               input: index !== undefined ? field(row, "m-" + (index + 1)) : (/^m-/.test(key) ? field(row, key) : null) };
    }
    var name = CELL_OF_COLUMN[key] || key;
    if (name === "weight_attribute") { return { container: row.querySelector(".split-weights") }; }
    if (name === "split_role") { return { container: row.querySelector(".split-role") }; }
    if (name === "split") { return { container: row.querySelector(".split-how") }; }
    var container = name ? row.querySelector("[data-keys~='" + name + "']") : null;
    return { container: container || row.querySelector(".row-errors") };
  }

  function place(path, message) {
    var match = /^entries\[(\d+)\](?:\.([a-z_]+))?(?:\[(\d+)\])?/.exec(path);
    if (match) {
      var row = rows()[Number(match[1])];
      if (!row || isBlank(row)) { return 0; }  // a row not begun yet: nothing to say about it
      var cell = cellOf(row, match[2] || "", match[3] !== undefined ? Number(match[3]) : undefined);
      showProblem(cell.container, message, cell.input);
      return 1;
    }
    var container = form.querySelector("[data-path='" + (path === "label" ? "label.zh" : path) + "']");
    showProblem(container || document.getElementById("grid-problems"), (container ? "" : path + ": ") + message);
    return 1;
  }

  function setWords(row, answer) {
    row.querySelector(".entry-words").textContent = answer.description || "";
    row.querySelector(".split-total").textContent = answer.total || "";
  }

  /* Any answer but a success is a failure, its message kept: a refused check must never read as
   * "no problem", and a refused paste must leave the grid as it was. */
  function post(url, body) {
    return fetch(url, { method: "POST", body: body, credentials: "same-origin",
                        headers: { "Accept": "application/json", "X-CSRFToken": csrf } })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) {
            var failure = new Error(String(response.status));
            failure.messages = data.problems || (data.message ? [data.message] : []);
            throw failure;
          }
          return data;
        });
      });
  }

  function check() {
    renumber();
    var asked = ++checking;
    var status = form.querySelector(".live-status");
    /* URL-encoded: a multipart body of a long grid would pass the server's limit on parts */
    post(form.getAttribute("data-check-url"), new URLSearchParams(new FormData(form))).then(function (answer) {
      if (asked !== checking) { return; }  // a later check is on its way
      clearProblems();
      var all = rows();
      (answer.rows || []).forEach(function (words, i) { if (all[i]) { setWords(all[i], words); } });
      var shown = (answer.problems || []).reduce(function (count, p) { return count + place(p.path, p.message); }, 0);
      status.textContent = shown ? words(S.problems, { count: shown }) : S.checked;
    }).catch(function () { status.textContent = S.unreachable; });
  }

  function scheduleCheck() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 500);
  }

  /* --- employees by search ---------------------------------------------------------------- */

  function searchEmployees(text) {
    if (!text || text === lastSearch) { return; }
    lastSearch = text;
    fetch(form.dataset.employeesUrl + "?q=" + encodeURIComponent(text), { credentials: "same-origin",
      headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { employees: [] }; })
      .then(function (answer) {
        employeeList.textContent = "";
        answer.employees.forEach(function (employee) {
          var option = document.createElement("option");
          option.value = employee.code;
          option.textContent = employee.name + " · " + employee.department;
          employeeList.appendChild(option);
        });
      })
      .catch(function () { lastSearch = null; });
  }

  /* --- pasting ----------------------------------------------------------------------------- */

  function paste(text, replace, at) {
    var result = form.querySelector(".paste-result");
    if (new Blob([text]).size > S.max_paste_bytes) {
      result.textContent = S.too_long;
      return Promise.resolve();
    }
    var body = new FormData();
    body.append("text", text);
    return post(form.getAttribute("data-paste-url"), body).then(function (answer) {
      var before = at ? at.nextElementSibling : null;
      if (replace) { rows().forEach(function (row) { row.remove(); }); before = null; }
      else if (at && isBlank(at)) { at.remove(); }
      else if (!at) { rows().filter(isBlank).forEach(function (row) { row.remove(); }); }
      var added = (answer.rows || []).map(function (pasted) {
        var row = addRow(pasted.cells, before && before.parentNode ? before : null);
        row.classList.add("cell-pasted");
        setWords(row, pasted);
        return { row: row, problems: pasted.problems || [] };
      });
      renumber();
      result.textContent = "";
      var lines = [added.length ? words(answer.header ? S.pasted_header : S.pasted, { count: added.length })
                                : S.nothing_pasted].concat(answer.problems || []);
      added.forEach(function (item) {  // what the paste could not read as it was: kept here, by row
        var position = rows().indexOf(item.row) + 1;
        item.problems.forEach(function (p) { lines.push(words(S.row_problem, { row: position, message: p.message })); });
      });
      lines.forEach(function (text, i) {
        var line = document.createElement("div");
        if (i > 0) { line.className = "problem"; }
        line.textContent = text;
        result.appendChild(line);
      });
      if (added.length) { check(); }
    }).catch(function (failure) {
      result.textContent = (failure.messages && failure.messages.length) ? failure.messages.join(" ") : S.unreachable;
    });
  }

  /* --- events ------------------------------------------------------------------------------ */

  grid.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) { return; }
    var row = button.closest("tbody.entry");
    if (button.dataset.action === "add") {
      field(addRow(null), "name").focus();
      return;
    }
    if (button.dataset.action === "remove" && row) {
      var next = row.nextElementSibling;
      row.remove();
      renumber();
      (next && next.querySelector("[data-action=remove]") || grid.querySelector("[data-action=add]")).focus();
      scheduleCheck();
    } else if (button.dataset.action === "months" && row) {
      openMonths(row, row.querySelector(".months-line").dataset.open !== "yes");
    }
  });

  form.addEventListener("change", function (event) {
    var row = event.target.closest("tbody.entry");
    if (row) {
      if (event.target.dataset.field === "split") { showSplit(row); }
      if (event.target.dataset.field === "holder_kind") { holderList(row); }
    }
    scheduleCheck();
  });

  form.addEventListener("input", function (event) {
    var row = event.target.closest("tbody.entry");
    if (row && /^m-/.test(event.target.dataset.field || "")) { monthsSum(row); }
    if (row && event.target.dataset.field === "holder" && field(row, "holder_kind").value === "employee") {
      clearTimeout(searchTimer);
      var text = event.target.value.trim();
      searchTimer = setTimeout(function () { searchEmployees(text); }, 250);
    }
    if (event.target.id !== "paste-text") { scheduleCheck(); }
  });

  grid.addEventListener("paste", function (event) {
    var text = (event.clipboardData || window.clipboardData).getData("text");
    if (!/[\t\n]/.test(text.replace(/\s+$/, ""))) { return; }  // one cell: the browser pastes it
    event.preventDefault();
    paste(text, false, event.target.closest("tbody.entry"));
  });

  form.querySelector("[data-action=paste]").addEventListener("click", function () {
    var box = document.getElementById("paste-text");
    var replace = document.getElementById("paste-replace").checked;
    var filled = rows().filter(function (row) { return !isBlank(row); }).length;
    if (!box.value.trim()) { return; }
    if (replace && filled && !window.confirm(words(S.confirm_replace, { count: filled }))) { return; }
    paste(box.value, replace, null).then(function () { box.value = ""; });
  });

  form.addEventListener("submit", function () {
    rows().filter(isBlank).forEach(function (row) { row.remove(); });
    renumber();
  });

  rows().forEach(prepare);
})();
