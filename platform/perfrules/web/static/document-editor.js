/* Editors drawn from a description (templates/designer/_document_form.html): rows added, moved
 * and removed (names and problem paths renumbered to match the page; a map's entry is at its
 * key, `parameters.target_bonus`), fields shown only when they apply, the choices that belong
 * to another field's value offered for it (a dataset's fields, the rules a base takes), the keys
 * typed in a map offered where they are chosen, employees found as their code or name is typed
 * — and, for every designer form with a data-check-url, checking as you type: the server reads
 * the form exactly as saving does and its problems appear under the fields they are about.
 * Nothing here decides what is valid. */
(function () {
  "use strict";

  var DEBOUNCE_MS = 450;
  var SEARCH_MS = 250;
  var S = JSON.parse((document.getElementById("document-editor-strings") || { textContent: "{}" }).textContent);

  function ownOf(scope, selector) {
    var row = scope.matches("[data-row]") ? scope : null;
    return Array.prototype.filter.call(scope.querySelectorAll(selector), function (el) {
      return el.closest("[data-row]") === row && !el.closest("template");
    });
  }

  function rename(el, name) {
    var oldId = el.id;
    el.name = name;
    if (!oldId) { return; }
    var id = "in-" + name + (el.type === "checkbox" && el.closest(".doc-multiselect") ? "-" + el.value : "");
    if (id === oldId) { return; }
    el.id = id;
    var label = document.querySelector("label[for='" + CSS.escape(oldId) + "']");
    if (label) { label.htmlFor = id; }
  }

  function isInput(el) { return el.matches("input, select, textarea"); }

  /* a key within a row names a path within it: label-zh → label.zh, base-records → base.records */
  function pathOf(key) { return key.replace(/-/g, "."); }

  function entryKey(row) {
    var input = ownOf(row, "[data-key='key']").filter(isInput)[0];
    return input ? input.value.trim() : "";
  }

  function renumber(scope, namePrefix, pathPrefix) {
    ownOf(scope, "[data-key]").forEach(function (el) {
      var key = el.dataset.key;
      if (el.matches("[data-formula-holder]")) {
        var textarea = el.querySelector("textarea");
        if (textarea) { rename(textarea, namePrefix + key); }
      } else if (isInput(el)) {
        rename(el, namePrefix + key);
      }
      if (key !== "_row" && el.hasAttribute("data-path")) {
        el.dataset.path = pathPrefix + pathOf(key);
      }
    });
    ownOf(scope, "[data-field-key]").forEach(function (el) {
      el.dataset.fieldPath = pathPrefix + pathOf(el.dataset.fieldKey);
    });
    ownOf(scope, ".doc-rows").forEach(function (rows) {
      var key = rows.dataset.rows;
      var path = pathPrefix + pathOf(key);
      rows.dataset.path = path;
      Array.prototype.forEach.call(rows.children, function (row, index) {
        var at = rows.hasAttribute("data-keyed") ? path + "." + entryKey(row) : path + "[" + index + "]";
        row.dataset.fieldPath = at;
        renumber(row, namePrefix + key + "-" + index + "-", at + ".");
      });
    });
  }

  /* the field a show or depends rule names: in the element's row, else in the rows around it */
  function sibling(el, key) {
    var row = el.parentElement.closest("[data-row]");
    for (;;) {
      var found = ownOf(row || el.closest("form"), "[data-key='" + key + "']").filter(isInput)[0];
      if (found || !row) { return found; }
      row = row.parentElement.closest("[data-row]");
    }
  }

  function mapKeys(form, name) {
    var rows = Array.prototype.filter.call(form.querySelectorAll(".doc-rows[data-rows='" + name + "']"), function (r) {
      return !r.closest("[data-row]");
    })[0];
    var keys = [];
    Array.prototype.forEach.call(rows ? rows.children : [], function (row) {
      var key = entryKey(row);
      if (key && keys.indexOf(key) < 0) { keys.push(key); }
    });
    return keys;
  }

  function offerKeys(select, keys) {
    var current = select.value;
    Array.prototype.slice.call(select.options).forEach(function (option) {
      if (option.value) { option.remove(); }
    });
    /* a key no longer typed stays chosen: saving says what is wrong with it */
    (current && keys.indexOf(current) < 0 ? keys.concat([current]) : keys).forEach(function (key) {
      var option = document.createElement("option");
      option.value = key;
      option.textContent = key;
      select.appendChild(option);
    });
    select.value = current;
  }

  function refresh(form) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-show-rel]"), function (el) {
      if (el.closest("template")) { return; }
      var other = sibling(el, el.dataset.showRel);
      el.hidden = !other || el.dataset.showValues.split(" ").indexOf(other.value) < 0;
    });
    Array.prototype.forEach.call(form.querySelectorAll("select[data-depends-rel]"), function (select) {
      var other = sibling(select, select.dataset.dependsRel);
      var group = other ? other.value : "";
      Array.prototype.forEach.call(select.options, function (option) {
        option.hidden = option.dataset.group !== undefined && option.dataset.group.split(" ").indexOf(group) < 0;
      });
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-formula-holder][data-depends-rel]"), function (holder) {
      var dataset = sibling(holder, holder.dataset.dependsRel);
      var editor = holder.querySelector(".formula-editor");
      if (dataset && editor) { editor.dataset.dataset = dataset.value; }
    });
    Array.prototype.forEach.call(form.querySelectorAll("select[data-keys-of]"), function (select) {
      offerKeys(select, mapKeys(form, select.dataset.keysOf));
    });
  }

  function setUpRows(form) {
    form.addEventListener("click", function (event) {
      var button = event.target.closest("[data-action]");
      if (!button || !form.contains(button)) { return; }
      var action = button.dataset.action;
      var row = button.closest("[data-row]");
      var fresh = null;
      if (action === "add-row") {
        var fieldset = button.closest("fieldset");
        var template = fieldset.querySelector("template[data-row-template='" + button.dataset.rowsOf + "']");
        var rows = ownOf(fieldset.parentElement.closest("[data-row]") || form, ".doc-rows").filter(function (r) {
          return r.dataset.rows === button.dataset.rowsOf && fieldset.contains(r);
        })[0];
        fresh = template.content.firstElementChild.cloneNode(true);
        rows.appendChild(fresh);
      } else if (action === "remove" && row) {
        row.remove();
      } else if (action === "up" && row && row.previousElementSibling) {
        row.parentNode.insertBefore(row, row.previousElementSibling);
      } else if (action === "down" && row && row.nextElementSibling) {
        row.parentNode.insertBefore(row.nextElementSibling, row);
      } else {
        return;
      }
      renumber(form, "", "");
      refresh(form);
      if (fresh) {
        /* a new row's formulas are checked as they are typed, once named and given their dataset */
        Array.prototype.forEach.call(fresh.querySelectorAll(".formula-editor"), function (root) {
          if (window.perfrulesFormulaEditor) { window.perfrulesFormulaEditor(root); }
        });
        var first = fresh.querySelector("input:not([type=hidden]), select, textarea");
        if (first) { first.focus(); }
      }
      schedule(form);
    });
    form.addEventListener("change", function () { renumber(form, "", ""); refresh(form); });
    renumber(form, "", "");
    refresh(form);
  }

  /* --- employees found as their code or name is typed (never a list of everyone) --- */

  function setUpEmployeeSearch(form) {
    var list = document.getElementById("employee-choices");
    var url = form.getAttribute("data-employees-url");
    if (!list || !url) { return; }
    var timer = null;
    var asked = "";
    form.addEventListener("input", function (event) {
      if (!event.target.matches("input[data-employee-search]")) { return; }
      var words = event.target.value.trim();
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (!words || words === asked) { return; }
        asked = words;
        fetch(url + "?q=" + encodeURIComponent(words), { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { employees: [] }; })
          .then(function (answer) {
            list.textContent = "";
            (answer.employees || []).forEach(function (employee) {
              var option = document.createElement("option");
              option.value = employee.code;
              option.textContent = employee.name + " · " + employee.department;
              list.appendChild(option);
            });
          })
          .catch(function () { asked = ""; });
      }, SEARCH_MS);
    });
  }

  /* --- checking as you type (every designer form with data-check-url) --- */

  var timers = new WeakMap();

  function schedule(form) {
    clearTimeout(timers.get(form));
    timers.set(form, setTimeout(function () { check(form); }, DEBOUNCE_MS));
  }

  function show(form, problems) {
    Array.prototype.forEach.call(form.querySelectorAll(".live-error"), function (el) { el.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll(".is-invalid-live"), function (el) { el.classList.remove("is-invalid-live"); });
    var box = document.querySelector(".live-problems");
    var list = box ? box.querySelector("ul") : null;
    if (list) { list.textContent = ""; }
    var unplaced = 0;
    problems.forEach(function (problem) {
      var target = form.querySelector("[data-path='" + CSS.escape(problem.path) + "']") ||
                   form.querySelector("[data-field-path='" + CSS.escape(problem.path) + "']");
      var holder = target ? target.closest("[data-formula-holder]") : null;
      if (holder && holder.querySelector(".formula-message:not([hidden]), .formula-error:not([hidden])")) {
        return;  /* the formula editor shows it already, with its caret and suggestion */
      }
      if (target && !target.closest("[hidden]")) {
        var message = document.createElement("div");
        message.className = "invalid-feedback d-block live-error";
        message.textContent = problem.message;
        if (target.matches("input, select, textarea")) { target.classList.add("is-invalid-live"); }
        (target.matches("fieldset, .form-group, [data-formula-holder], .doc-row") ? target : target.parentElement).appendChild(message);
      } else if (list) {
        var item = document.createElement("li");
        var code = document.createElement("code");
        code.textContent = problem.path || "—";
        item.appendChild(code);
        item.appendChild(document.createTextNode(": " + problem.message));
        list.appendChild(item);
        unplaced += 1;
      }
    });
    if (box) { box.hidden = unplaced === 0; }
    var status = form.querySelector(".live-status");
    if (status) { status.textContent = problems.length ? "" : (S.ok || ""); }
  }

  function check(form) {
    var status = form.querySelector(".live-status");
    if (status) { status.textContent = S.checking || ""; }
    /* getAttribute, not form.dataset: a field named "dataset" shadows the property on a <form>;
     * URL-encoded, not multipart: a long form would pass the server's limit on parts */
    fetch(form.getAttribute("data-check-url"), { method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
                                   headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { show(form, data.problems || []); } })
      .catch(function () { if (status) { status.textContent = ""; } });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-check-url]"), function (form) {
    if (form.classList.contains("document-form")) { setUpRows(form); setUpEmployeeSearch(form); }
    form.addEventListener("input", function () { schedule(form); });
    form.addEventListener("change", function () { schedule(form); });
  });

  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
}());
