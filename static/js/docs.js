// @ts-check
// Swagger UI for /docs, served from the installed swagger-ui-py package (no CDN), started
// from this file because the page's Content-Security-Policy allows no inline script.
const SwaggerUIBundle = /** @type {any} */ (window).SwaggerUIBundle;
SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
