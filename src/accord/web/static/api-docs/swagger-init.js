// Starts Swagger UI on /api/docs (accord/api/docs.py) from the page's data attributes: no
// inline script, so the page can forbid inline scripts (its Content-Security-Policy).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // The key typed into "Authorize" survives a reload (kept in this browser's storage).
    persistAuthorization: true,
    // Swagger UI would otherwise send the document's URL to validator.swagger.io for a badge.
    validatorUrl: null,
  });
})();
