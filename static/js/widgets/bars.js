// @ts-check
// Labelled bars (next-token probabilities, one attention row, head shares) as plain HTML.

/**
 * Draw labelled bars as plain HTML: a step change redraws three of these, and laying out
 * dozens of token labels in Plotly takes longer than a step change may (bench/browser.py).
 * Labels go in as textContent, so a token is never parsed as HTML.
 * @param {HTMLElement} element @param {import("../steps.js").Bars} bars
 */
export function drawBars(element, bars) {
  element.replaceChildren(...bars.items.map(({ label, value, role }, i) => {
    const item = document.createElement("div");
    item.className = ["bar-item", role ?? "", i === bars.highlight ? "chosen" : ""].join(" ").trim();
    item.title = `${label}: ${value.toFixed(4)}`;
    const name = document.createElement("span");
    name.className = "bar-label";
    name.textContent = label;
    const track = document.createElement("span");
    track.className = "bar-track";
    const fill = document.createElement("span");
    fill.className = "bar-fill";
    fill.style.width = `${(100 * value).toFixed(1)}%`;
    track.append(fill);
    const number = document.createElement("span");
    number.className = "bar-value";
    number.textContent = value.toFixed(3);
    item.append(name, track, number);
    return item;
  }));
}
