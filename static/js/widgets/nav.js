// @ts-check
// The navigation bar: one link per view (a real ?mode= href, so it can be opened in a new tab
// or shared), the current one marked with aria-current; a plain click switches in the page.

/** @typedef {import("../views/view.js").View} View */

/** @returns {HTMLAnchorElement[]} */
function links() {
  return /** @type {HTMLAnchorElement[]} */ ([...document.querySelectorAll("nav.views a[data-mode]")]);
}

/**
 * Mark the current view's link; a view this server cannot show is marked disabled and says why.
 * @param {string} current @param {(name: string) => string | null} unavailable why, or null
 */
export function renderNav(current, unavailable) {
  for (const link of links()) {
    const name = link.dataset.mode ?? "";
    if (name === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
    const why = unavailable(name);
    link.toggleAttribute("aria-disabled", why !== null);
    if (why !== null) link.setAttribute("aria-disabled", "true");
    link.title = why ?? "";
  }
}

/**
 * Call `go(name)` on a plain click of a link (a modified or middle click opens its href as
 * the browser does).
 * @param {(name: string) => void} go
 */
export function bindNav(go) {
  for (const link of links()) {
    link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
        return;
      }
      event.preventDefault();
      if (link.getAttribute("aria-disabled") !== "true") go(link.dataset.mode ?? "");
    });
  }
}
