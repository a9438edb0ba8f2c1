// The calibration page's chart (校准): per grade, the target count against the computed and the
// calibrated counts, drawn with the vendored Chart.js from the page's
// <script type="application/json" id="calibration-data"> tag, so no script is inline.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var element = document.getElementById("calibration-data");
    var canvas = document.getElementById("calibration-chart");
    if (!element || !canvas || !window.Chart) { return; }
    var chart = JSON.parse(element.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: [
          { label: chart.titles.target, data: chart.target, backgroundColor: "#9fb3c8" },
          { label: chart.titles.computed, data: chart.computed, backgroundColor: "#5b9bd5" },
          { label: chart.titles.adjusted, data: chart.adjusted, backgroundColor: "#1a7f37" }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: chart.axis } } }
      }
    });
  });
}());
