// @ts-check
/** Escape text for Plotly labels, which interpret some HTML (<b>, <br>, <a>). */
export function escapeLabel(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * A token as the page shows it: the line break, which would otherwise be an empty chip or an
 * empty label, as ↵.
 * @param {string} token
 */
export function shownToken(token) {
  return token === "\n" ? "↵" : token;
}
