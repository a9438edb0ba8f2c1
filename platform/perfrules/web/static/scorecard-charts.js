// Charts of the scorecard pages, drawn with the vendored Chart.js. The data comes from
// <script type="application/json"> tags the page renders, so no script is inline.
(function () {
  "use strict";

  function data(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var BLUE = "#2f6fb0", GREY = "#9fb3c8", GREEN = "#1a7f37", ORANGE = "#d4a72c";
  var common = { responsive: true, maintainAspectRatio: false, animation: false };

  function draw(canvasId, config) {
    var canvas = document.getElementById(canvasId);
    if (canvas && window.Chart) {
      new window.Chart(canvas, config);
    }
  }

  function attainment(chart) {
    draw("attainment-chart", {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: [{
          label: chart.title,
          data: chart.values,
          backgroundColor: chart.values.map(function (value, index) {
            if (chart.basis[index] === "score") { return GREY; }
            return value >= 100 ? GREEN : value >= 80 ? BLUE : ORANGE;
          })
        }]
      },
      options: Object.assign({}, common, {
        indexAxis: "y",
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (context) {
                var text = context.parsed.x + "%";
                return chart.basis[context.dataIndex] === "score" ? text + " (" + chart.note_score + ")" : text;
              }
            }
          }
        },
        scales: { x: { beginAtZero: true, suggestedMax: 120, ticks: { callback: function (v) { return v + "%"; } } } }
      })
    });
  }

  function line(canvasId, chart) {
    draw(canvasId, {
      type: "line",
      data: {
        labels: chart.labels,
        datasets: [{ label: chart.title, data: chart.values, borderColor: BLUE, backgroundColor: BLUE,
                     spanGaps: true, tension: 0.2, pointRadius: 4 }]
      },
      options: Object.assign({}, common, {
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, suggestedMax: 100 } }
      })
    });
  }

  function histogram(chart) {
    draw("histogram-chart", {
      type: "bar",
      data: { labels: chart.labels, datasets: [{ label: chart.title, data: chart.values, backgroundColor: BLUE }] },
      options: Object.assign({}, common, {
        plugins: { legend: { display: false } },
        scales: { x: { title: { display: true, text: chart.axis } }, y: { beginAtZero: true, ticks: { precision: 0 } } }
      })
    });
  }

  function grades(chart) {
    draw("grades-chart", {
      type: "bar",
      data: { labels: chart.labels, datasets: [{ label: chart.title, data: chart.values, backgroundColor: chart.colours }] },
      options: Object.assign({}, common, {
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      })
    });
  }

  function departments(chart) {
    draw("departments-chart", {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: chart.datasets.map(function (set) {
          return { label: set.label, data: set.values, backgroundColor: set.colour };
        })
      },
      options: Object.assign({}, common, {
        indexAxis: "y",
        scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: chart.title } },
                  y: { stacked: true } }
      })
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var found;
    if ((found = data("attainment-data"))) { attainment(found); }
    if ((found = data("trend-data"))) { line("trend-chart", found); }
    if ((found = data("histogram-data"))) { histogram(found); }
    if ((found = data("grades-data"))) { grades(found); }
    if ((found = data("departments-data"))) { departments(found); }
    if ((found = data("company-trend-data"))) { line("company-trend-chart", found); }
  });
}());
