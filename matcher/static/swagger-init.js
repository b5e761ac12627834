// Starts Swagger UI at /api/docs (templates/swagger_ui.html) from the page's JSON configuration block.
window.addEventListener("load", function () {
  var config = JSON.parse(document.getElementById("swagger-ui-config").textContent);
  window.ui = SwaggerUIBundle(config);
});
