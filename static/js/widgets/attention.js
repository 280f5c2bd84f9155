// @ts-check
// The attention panels: the architecture strip, the head view (one head, or the mean) and the
// model view (every layer × head of the chosen site).
import { findMap, headFigure, layersOf, modelFigure } from "../heatmap.js";
import { format } from "../text.js";
import { setOptions } from "./controls.js";
import { byId } from "./dom.js";
import { draw, labelRoom } from "./plots.js";

/** @typedef {import("../types.js").TranslateResponse} TranslateResponse */
/** @typedef {import("../views/view.js").PageText} PageText */

/** Mark the chosen site in the architecture strip and the select. @param {string} site */
export function renderSite(site) {
  for (const box of document.querySelectorAll(".block.attn")) {
    box.classList.toggle("active", /** @type {HTMLElement} */ (box).dataset.view === site);
  }
  byId("view").value = site;
}

/**
 * Draw the head view and the model view of the state's site; a layer or head the response does
 * not have becomes its first layer, or the mean of heads.
 * @param {import("../views/view.js").State} state @param {TranslateResponse} response
 * @param {PageText["common"]} words `layer`, `head`, `mean_of_heads`, `times` templates and
 *   the figures' words (`plot`)
 */
export function renderAttention(state, response, words) {
  const layers = layersOf(response, state.view);
  if (!layers.includes(state.layer)) state.layer = layers[0] ?? 0;
  const map = findMap(response, state.view, state.layer);
  if (!map) return;
  const heads = map.weights.length;
  if (state.head !== "mean" && !(state.head >= 0 && state.head < heads)) state.head = "mean";
  const headNumbers = Array.from({ length: heads }, (_, h) => h);
  setOptions(byId("layer"), layers, layers.map((layer) => format(words.layer, { layer })));
  setOptions(byId("head"), ["mean", ...headNumbers],
    [words.mean_of_heads, ...headNumbers.map((head) => format(words.head, { head }))]);
  byId("layer").value = String(state.layer);
  byId("head").value = String(state.head);
  for (const [id, site] of [["enc-n", "encoder.self"], ["dec-n", "decoder.self"]]) {
    byId(id).textContent = format(words.times, { count: layersOf(response, site).length });
  }
  draw(byId("head-plot"), headFigure(map, state.head, words.plot, labelRoom(byId("head-plot"))));
  draw(byId("model-plot"), modelFigure(response, state.view, words.plot));
}
