/* The dataset designer: add, remove and reorder fields and a choice field's options; show the
 * options only for choice fields; offer the fields of the right type as the owner and date
 * fields. The server checks everything again when the form is saved. */
(function () {
  "use strict";

  var form = document.getElementById("dataset-form");
  if (!form) { return; }
  var strings = JSON.parse(document.getElementById("dataset-designer-strings").textContent);
  var table = document.getElementById("fields");
  var dirty = false;

  function fieldRows() {
    return Array.prototype.filter.call(table.children, function (el) { return el.dataset.row === "field"; });
  }

  function optionRows(field) {
    return Array.prototype.filter.call(field.querySelector("tbody.options").children, function (el) {
      return el.dataset.row === "option";
    });
  }

  function own(row, selector) {
    return Array.prototype.filter.call(row.querySelectorAll(selector), function (el) {
      return el.closest("[data-row]") === row;
    });
  }

  /* Names follow the order on the page: f-0-name, f-1-op-2-value … */
  function renumber() {
    fieldRows().forEach(function (field, f) {
      own(field, "[data-field]").forEach(function (el) { el.name = "f-" + f + "-" + el.dataset.field; });
      optionRows(field).forEach(function (option, k) {
        own(option, "[data-field]").forEach(function (el) {
          el.name = "f-" + f + "-op-" + k + "-" + el.dataset.field;
        });
      });
    });
  }

  function showType(field) {
    var type = field.querySelector("[data-field=type]").value;
    field.dataset.type = type;
    Array.prototype.forEach.call(field.querySelectorAll("[data-show]"), function (el) {
      el.hidden = el.dataset.show !== type;
    });
  }

  /* The owner and date selects list the fields of a fitting type (and keep what is chosen). */
  function refreshChoosers() {
    var fields = fieldRows().map(function (field) {
      return { name: field.querySelector("[data-field=name]").value.trim(),
               type: field.querySelector("[data-field=type]").value };
    }).filter(function (f) { return f.name !== ""; });
    Array.prototype.forEach.call(form.querySelectorAll("select[data-choose]"), function (select) {
      var wanted = select.dataset.choose === "employee" ? ["employee"] : ["date", "datetime"];
      var current = select.value;
      var blank = select.options[0];
      while (select.options.length > 1) { select.remove(1); }
      var names = fields.filter(function (f) { return wanted.indexOf(f.type) >= 0; })
                        .map(function (f) { return f.name; });
      if (current && names.indexOf(current) < 0) { names.push(current); }
      names.forEach(function (name) {
        var option = document.createElement("option");
        option.value = name;
        option.textContent = name;
        option.selected = name === current;
        select.appendChild(option);
      });
      blank.selected = !current;
    });
  }

  function fromTemplate(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  function changed() {
    dirty = true;
    renumber();
    refreshChoosers();
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button || !form.contains(button)) { return; }
    var action = button.dataset.action;
    var row = button.closest("[data-row]");
    if (action === "add-field") {
      var field = fromTemplate("field-template");
      table.insertBefore(field, table.tFoot);  /* the table's own footer: the first <tfoot> inside is a field's options table's */
      showType(field);
      field.querySelector("[data-field=name]").focus();
    } else if (action === "add-option") {
      var option = fromTemplate("option-template");
      button.closest("[data-row=field]").querySelector("tbody.options").appendChild(option);
      option.querySelector("[data-field=value]").focus();
    } else if (action === "remove" && row) {
      if (row.dataset.usedBy && !window.confirm(strings.confirm_remove_used.replace("{metrics}", row.dataset.usedBy))) {
        return;
      }
      row.remove();
    } else if (action === "up" && row && row.previousElementSibling && row.previousElementSibling.dataset.row === row.dataset.row) {
      row.parentNode.insertBefore(row, row.previousElementSibling);
    } else if (action === "down" && row && row.nextElementSibling && row.nextElementSibling.dataset.row === row.dataset.row) {
      row.parentNode.insertBefore(row.nextElementSibling, row);
    } else {
      return;
    }
    changed();
  });

  form.addEventListener("input", function (event) {
    dirty = true;
    if (event.target.matches("[data-field=name]")) { refreshChoosers(); }
  });
  form.addEventListener("change", function (event) {
    if (event.target.matches("[data-field=type]")) {
      var field = event.target.closest("[data-row=field]");
      showType(field);
      if (event.target.value === "choice" && optionRows(field).length === 0) {
        field.querySelector("tbody.options").appendChild(fromTemplate("option-template"));
        renumber();
      }
      refreshChoosers();
    }
    dirty = true;
  });
  form.addEventListener("submit", function () { renumber(); dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  fieldRows().forEach(showType);
  renumber();
  refreshChoosers();
}());
