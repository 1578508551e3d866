// Starts Swagger UI on /docs over this service's /openapi.json. Kept out of the HTML so the page's
// Content-Security-Policy can forbid inline scripts. validatorUrl: null keeps the page from calling
// the public swagger.io validator: the page talks to this service only.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    displayRequestDuration: true,
    showExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
});
