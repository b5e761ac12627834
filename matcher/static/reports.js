// The report page: charts drawn from the canvases' data-chart attributes (no inline script), the print button,
// and the period picker showing the year or the dates it needs.
(function () {
  "use strict";
  var COLOURS = ["#1e6fb8", "#e07b00", "#2e7d32", "#8e24aa"];
  var charts = [];

  function draw(canvas) {
    var spec = JSON.parse(canvas.getAttribute("data-chart"));
    var horizontal = Boolean(spec.horizontal);
    var crowded = spec.labels.length > 12;  // e.g. a district's offices: smaller names, every one shown
    return new window.Chart(canvas, {
      type: spec.type || "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set, index) {
          return { label: set.label, data: set.data, backgroundColor: COLOURS[index % COLOURS.length] };
        })
      },
      options: {
        indexAxis: horizontal ? "y" : "x", animation: false, responsive: true, maintainAspectRatio: false,
        plugins: { legend: { position: "bottom" } },
        scales: {
          x: { beginAtZero: true },
          y: { beginAtZero: true, ticks: { autoSkip: !horizontal, font: { size: crowded ? 9 : 12 } } }
        }
      }
    });
  }

  function showPeriodFields() {
    var part = document.querySelector("[data-period-part]");
    if (!part) { return; }
    var dates = part.value === "dates";
    document.querySelectorAll("[data-period]").forEach(function (box) {
      box.hidden = (box.getAttribute("data-period") === "dates") !== dates;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.Chart) {
      document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) { charts.push(draw(canvas)); });
    }
    var part = document.querySelector("[data-period-part]");
    if (part) {
      part.addEventListener("change", showPeriodFields);
      showPeriodFields();
    }
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });
  // Charts follow the printed page's width, then the screen's again.
  window.addEventListener("beforeprint", function () { charts.forEach(function (chart) { chart.resize(); }); });
  window.addEventListener("afterprint", function () { charts.forEach(function (chart) { chart.resize(); }); });
})();
