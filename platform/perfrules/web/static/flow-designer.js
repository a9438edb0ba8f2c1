/* The approval flow designer: add, remove and reorder steps; show the role or the login only for
 * the actors that take one; a new step gets its own formula editor for its condition. The server
 * checks everything again when the flow is saved. */
(function () {
  "use strict";

  var form = document.getElementById("flow-form");
  if (!form) { return; }
  var list = document.getElementById("steps");
  var added = 0;
  var dirty = false;

  function stepRows() {
    return Array.prototype.slice.call(list.querySelectorAll("[data-row=step]"));
  }

  /* Names follow the order on the page (st-0-name, st-1-condition …): the server reads the steps
   * in the order of their numbers. */
  function renumber() {
    stepRows().forEach(function (row, index) {
      row.querySelector(".step-number").textContent = String(index + 1);
      Array.prototype.forEach.call(row.querySelectorAll("[data-field]"), function (el) {
        el.name = "st-" + index + "-" + el.dataset.field;
      });
      row.querySelector("textarea.formula-input").name = "st-" + index + "-condition";
    });
  }

  function showActor(row) {
    var kind = row.querySelector("[data-field=actor]").value;
    row.dataset.kind = kind;
    Array.prototype.forEach.call(row.querySelectorAll("[data-show]"), function (el) {
      el.hidden = el.dataset.show !== kind;
    });
  }

  function addStep() {
    added += 1;
    var holder = document.createElement("div");
    holder.innerHTML = document.getElementById("step-template").innerHTML.replace(/__N__/g, "new" + added);
    var row = holder.firstElementChild;
    list.appendChild(row);
    if (window.perfrulesFormulaEditor) { window.perfrulesFormulaEditor(row.querySelector(".formula-editor")); }
    showActor(row);
    row.querySelector("[data-field=name]").focus();
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button || !form.contains(button)) { return; }
    var row = button.closest("[data-row=step]");
    var action = button.dataset.action;
    if (action === "add-step") {
      addStep();
    } else if (action === "remove" && row) {
      row.remove();
    } else if (action === "up" && row && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (action === "down" && row && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    } else {
      return;
    }
    dirty = true;
    renumber();
  });

  form.addEventListener("change", function (event) {
    if (event.target.matches("[data-field=actor]")) { showActor(event.target.closest("[data-row=step]")); }
    dirty = true;
  });
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("submit", function () { renumber(); dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  stepRows().forEach(showActor);
  renumber();
}());
