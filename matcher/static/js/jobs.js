// The job page: poll the job's status while it is queued or running, move the progress bar, and reload the
// page once it has finished (the server then shows the result or the error, with its links).
(function () {
  "use strict";
  var box = document.querySelector("[data-job-status-url]");
  if (!box) { return; }
  var url = box.getAttribute("data-job-status-url");
  var delay = 1000;

  function show(job) {
    var bar = box.querySelector("[data-job-progress]");
    if (bar && job.total) {
      bar.max = job.total;
      bar.value = job.done;
      bar.textContent = (job.percent || 0) + "%";
    }
    var message = box.querySelector("[data-job-message]");
    if (message) { message.textContent = job.message || ""; }
    var count = box.querySelector("[data-job-count]");
    if (count) { count.textContent = job.total ? job.done + " / " + job.total : ""; }
    var status = box.querySelector("[data-job-status]");
    if (status && job.status_label) { status.textContent = job.status_label; }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (job) {
        show(job);
        if (job.status === "succeeded" || job.status === "failed") {
          window.location.reload();
          return;
        }
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 15000); // the server is busy or away: ask again, less often
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
}());
