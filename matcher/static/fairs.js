// Job-fair pages: the print button, a question before irreversible buttons, and a busy state while planning.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-print]");
    if (button) {
      event.preventDefault();
      window.print();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-busy")) {
      var submit = event.submitter || form.querySelector("button[type=submit]");
      if (submit) {
        submit.setAttribute("aria-busy", "true");
      }
      // A second click must not start a second planning run.
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        window.setTimeout(function () { b.disabled = true; }, 0);
      });
    }
  });
})();
