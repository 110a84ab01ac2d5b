/**
 * callvault's mark: a vault dial on the interface's brand blue. The square icon is the web UI's
 * favicon too (web/public/favicon.svg is the same bytes; test/web/serving.test.ts holds them
 * together); the wide logo, with the name, heads the API documentation at /api/docs.
 */

const DIAL = `<circle cx="32" cy="32" r="17" fill="none" stroke="#fff" stroke-width="5"/><circle cx="32" cy="32" r="5" fill="#fff"/><path d="M32 10v6M32 48v6M10 32h6M48 32h6" stroke="#fff" stroke-width="5" stroke-linecap="round"/>`;

export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" fill="#1c3d6e"/>${DIAL}</svg>\n`;

export const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 330 64" role="img" aria-label="callvault API"><rect width="64" height="64" rx="12" fill="#1c3d6e" stroke="#fff" stroke-width="2"/>${DIAL}<text x="78" y="44" fill="#fff" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="34" font-weight="700">callvault <tspan font-weight="400">API</tspan></text></svg>\n`;

/** the documentation page in the interface's colours, without swagger-ui's own mark */
export const DOCS_CSS = `.swagger-ui .topbar { background: #1c3d6e; }
.swagger-ui .topbar .download-url-wrapper .download-url-button { background: #0f2547; }
.swagger-ui .topbar .topbar-wrapper img { height: 40px; }
`;
