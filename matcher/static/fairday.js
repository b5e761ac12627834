// The job-fair pages: charts drawn from their canvas's data-fair-chart attribute (no inline scripts) and the
// print button. Chart.js is vendored and loaded (deferred, before this file) only on pages with charts.
(function () {
  "use strict";
  var COLOURS = ["#1e6fb8", "#2e7d32", "#f0a202", "#9e9e9e", "#c62828", "#6a1b9a"];

  function draw(canvas) {
    var spec = JSON.parse(canvas.getAttribute("data-fair-chart"));
    var stacked = spec.kind === "stacked";
    var datasets = spec.datasets.map(function (set, index) {
      return {
        label: set.label,
        data: set.values,
        // A set may bring its colour (an outcome's, as on the booth's buttons); else the palette's.
        backgroundColor: set.colour || COLOURS[index % COLOURS.length]
      };
    });
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: stacked ? "x" : "y",
        animation: false, // printed pages get the finished chart
        maintainAspectRatio: false,
        plugins: { legend: { display: stacked } },
        scales: {
          x: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } },
          y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
    canvas.setAttribute("data-drawn", "true");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-fair-chart]").forEach(draw);
  });
})();
