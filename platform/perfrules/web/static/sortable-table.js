// Sortable tables: a click on a header sorts the rows in the page (numbers as numbers, text in the
// page's language) and remembers the order in the address, as the header's own link would.
// Without JavaScript the header links sort on the server.
(function () {
  "use strict";

  function cellValue(row, index) {
    var cell = row.cells[index];
    return cell ? (cell.getAttribute("data-value") || "") : "";
  }

  function sortBy(table, header) {
    var body = table.tBodies[0];
    var index = Array.prototype.indexOf.call(header.parentNode.cells, header);
    var numeric = header.getAttribute("data-type") === "number";
    var key = header.getAttribute("data-key");
    var ascending = table.getAttribute("data-sort") === key ? table.getAttribute("data-order") !== "asc"
      : key !== "total";
    var collator = new Intl.Collator(document.documentElement.lang || undefined, { numeric: true });
    var rows = Array.prototype.filter.call(body.rows, function (row) { return row.cells.length > 1; });
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index);
      if (x === "" || y === "") { return x === y ? 0 : x === "" ? 1 : -1; }  // empty cells last, either way
      var order = numeric ? parseFloat(x) - parseFloat(y) : collator.compare(x, y);
      if (order === 0) { order = collator.compare(cellValue(a, 0), cellValue(b, 0)); return order; }
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.setAttribute("data-sort", key);
    table.setAttribute("data-order", ascending ? "asc" : "desc");
    Array.prototype.forEach.call(header.parentNode.cells, function (cell) {
      if (cell.classList.contains("sortable")) {
        cell.setAttribute("aria-sort", cell === header ? (ascending ? "ascending" : "descending") : "none");
      }
    });
    var url = new URL(window.location.href);
    url.searchParams.set("sort", key);
    url.searchParams.set("order", ascending ? "asc" : "desc");
    window.history.replaceState(null, "", url.pathname + url.search);
    var form = document.getElementById("team-filters");
    if (form) {
      form.elements.sort.value = key;
      form.elements.order.value = ascending ? "asc" : "desc";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable-table"), function (table) {
      Array.prototype.forEach.call(table.querySelectorAll("th.sortable"), function (header) {
        header.addEventListener("click", function (event) {
          event.preventDefault();
          sortBy(table, header);
        });
      });
    });
  });
}());
