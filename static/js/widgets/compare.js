// @ts-check
// The side-by-side view: the translation model's cross-attention beside the GPT's attention
// from its answer to its prompt, for the same sentence.
import { answerToPrompt, findMap, headFigure, layersOf } from "../heatmap.js";
import { byId } from "./dom.js";
import { clear, draw, labelRoom } from "./plots.js";

/** @typedef {import("../types.js").TranslateResponse} TranslateResponse */
/** @typedef {import("../types.js").GenerateResponse} GenerateResponse */
/** @typedef {import("../types.js").AttentionMap} AttentionMap */
/** @typedef {import("../heatmap.js").PlotWords} PlotWords */

/**
 * Draw both plots at the chosen layer and head (each model's last layer, or the mean, where it
 * has fewer); empty both while either answer is missing.
 * @param {GenerateResponse | null} gpt @param {TranslateResponse | null} cross
 * @param {number} layer @param {number | "mean"} head @param {PlotWords} words
 */
export function drawComparison(gpt, cross, layer, head, words) {
  if (!gpt || !cross) {
    for (const id of ["compare-cross", "compare-gpt"]) clear(byId(id));
    return;
  }
  /** @type {[string, TranslateResponse, string, (map: AttentionMap) => AttentionMap][]} */
  const drawn = [
    ["compare-cross", cross, "decoder.cross", (map) => map],
    ["compare-gpt", gpt, "decoder.self", (map) => answerToPrompt(map, gpt.prompt_tokens.length)],
  ];
  for (const [id, response, site, select] of drawn) {
    const layers = layersOf(response, site);
    const shownLayer = layers.includes(layer) ? layer : layers[layers.length - 1];
    const found = findMap(response, site, shownLayer);
    if (!found) continue;
    const map = select(found);
    const shownHead = head === "mean" || head < map.weights.length ? head : "mean";
    const figure = headFigure(map, shownHead, words, labelRoom(byId(id)));
    figure.layout.margin = { l: 80, r: 10, t: 40, b: 80 };
    draw(byId(id), figure);
  }
}
