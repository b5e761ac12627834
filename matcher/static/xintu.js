// Send the CSRF token with every htmx request (forms carry it as a hidden field).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
});

// The phone's menu button (base.html): shows and hides the navigation; on a phone the groups ("More", the
// account) open with it, so every link is one tap away. Without this script the links stay shown.
document.addEventListener("DOMContentLoaded", function () {
  var nav = document.querySelector("nav[data-nav]");
  var toggle = nav && nav.querySelector("[data-nav-toggle]");
  if (!toggle) { return; }
  nav.setAttribute("data-nav-ready", "");
  var phone = window.matchMedia("(max-width: 768px)");
  toggle.addEventListener("click", function () {
    var open = !nav.classList.contains("open");
    nav.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    nav.querySelectorAll("details[data-nav-group]").forEach(function (group) { group.open = open && phone.matches; });
  });
  // A desktop group closes when one clicks elsewhere or presses Escape.
  document.addEventListener("click", function (event) {
    if (phone.matches) { return; }
    nav.querySelectorAll("details[data-nav-group][open]").forEach(function (group) {
      if (!group.contains(event.target)) { group.open = false; }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    nav.querySelectorAll("details[data-nav-group][open]").forEach(function (group) {
      group.open = false;
      group.querySelector("summary").focus();
    });
  });
});
