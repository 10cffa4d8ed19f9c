// Starts Swagger UI on this origin's OpenAPI document. A file, not an inline script: the content security
// policy allows scripts from 'self' only.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis],
  });
});
