// The bureau dashboard's two bar charts (templates/web/admin/dashboard.html): the series come from the
// page's JSON block, each bar's label and orientation from its canvas.
document.addEventListener("DOMContentLoaded", function () {
  var source = document.getElementById("chart-data");
  if (!window.Chart || !source) { return; }
  var data = JSON.parse(source.textContent);
  function bar(id, series) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    var horizontal = canvas.dataset.horizontal === "1";
    new Chart(canvas, {
      type: "bar",
      data: { labels: series.labels, datasets: [{ label: canvas.dataset.label, data: series.values, backgroundColor: "#1e6fb8" }] },
      options: { indexAxis: horizontal ? "y" : "x", plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true }, y: { beginAtZero: true } } }
    });
  }
  bar("chart-district", data.district);
  bar("chart-months", data.months);
});
