// @ts-check
// Small helpers every widget uses; nothing here runs on import, so node can import the views.

/** An element of the page by id. @param {string} id @returns {any} */
export const byId = (id) => document.getElementById(id);

/**
 * Show the elements that belong to view `name` and hide the rest: an element with
 * data-only="a b" is shown in views a and b only; one with data-site="decoder.self" only while
 * that attention site is chosen.
 * @param {string} name @param {string} site
 */
export function showOnly(name, site) {
  for (const element of document.querySelectorAll("[data-only], [data-site]")) {
    const el = /** @type {HTMLElement} */ (element);
    const inView = !el.dataset.only || el.dataset.only.split(" ").includes(name);
    const atSite = !el.dataset.site || el.dataset.site === site;
    el.hidden = !(inView && atSite);
  }
}

/** A counter the browser tests wait on. */
export function markRendered() {
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
}

/**
 * Record how long `work` took until the browser could paint its result, as a performance
 * measure named `name` (bench/browser.py reads them; the page itself never needs them).
 * @param {string} name @param {number} start a performance.now() value
 */
export function measureUntilPainted(name, start) {
  requestAnimationFrame(() => performance.measure(name, { start, end: performance.now() }));
}
