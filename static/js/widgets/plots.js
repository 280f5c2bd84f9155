// @ts-check
// Drawing Plotly figures: one configuration for every plot, and how many labels fit.

// No mode bar: its buttons would be invisible stops for the keyboard and would cover plot
// titles on a phone. Drag still zooms and a double click resets; PNG and JSON have their own
// buttons.
export const PLOT_CONFIG = { responsive: true, displaylogo: false, displayModeBar: false };
// Pixels one token label needs along an axis (a CJK character at 12 px, tilted), and the
// pixels of a heatmap's element that are margin rather than plot (headFigure's margins).
const LABEL_PX = { x: 16, y: 14 };
const MARGIN_PX = { x: 110, y: 130 };

/** Plotly: a classic script served from the installed plotly package. @returns {any} */
export function plotly() {
  return /** @type {any} */ (globalThis).Plotly;
}

/** Draw (or update) a figure in an element. @param {HTMLElement} element @param {any} figure */
export function draw(element, figure) {
  plotly().react(element, figure.data, figure.layout, PLOT_CONFIG);
}

/**
 * Empty a plot. An empty figure rather than Plotly.purge: purging a plot whose margins Plotly
 * is still redrawing throws "Cannot read properties of undefined".
 * @param {HTMLElement} element
 */
export function clear(element) {
  plotly().react(element, [], {}, PLOT_CONFIG);
}

/** How many token labels fit along each axis of a plot element. @param {HTMLElement} element */
export function labelRoom(element) {
  return {
    x: Math.max(1, Math.floor((element.clientWidth - MARGIN_PX.x) / LABEL_PX.x)),
    y: Math.max(1, Math.floor((element.clientHeight - MARGIN_PX.y) / LABEL_PX.y)),
  };
}
