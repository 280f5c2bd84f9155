// @ts-check
/** Escape text for Plotly labels, which interpret some HTML (<b>, <br>, <a>). */
export function escapeLabel(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
