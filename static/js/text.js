// @ts-check
// The page's words come from the template (its page-text JSON); this fills their placeholders.

/**
 * `template` with each `{name}` replaced by `values[name]`; a placeholder without a value stays
 * as it is, so a missing value shows rather than vanishing. A Plotly placeholder, `%{name}`, is
 * never one of ours: it is left alone.
 * @param {string} template @param {Record<string, string | number>} values
 */
export function format(template, values) {
  return template.replace(/(?<!%)\{(\w+)\}/g,
    (whole, name) => (name in values ? String(values[name]) : whole));
}
