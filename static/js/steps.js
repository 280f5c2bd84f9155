// @ts-check
// Pure functions for the step player: what step t saw and what it produced.
import { headMatrix } from "./heatmap.js";

/** @typedef {import("./types.js").AttentionMap} AttentionMap */
/** @typedef {import("./types.js").TranslateResponse} TranslateResponse */
/** @typedef {import("./types.js").Step} Step */

/**
 * Tokens to show at step t: what the decoder was fed, then the token being produced.
 * @param {TranslateResponse} response @param {number} step
 * @returns {{text: string, role: "special" | "done" | "current"}[]}
 */
export function prefixTokens(response, step) {
  const fed = ["<s>", ...response.target_tokens.slice(0, step)];
  return [
    ...fed.map((text, i) => ({ text, role: /** @type {"special" | "done"} */ (i === 0 ? "special" : "done") })),
    { text: response.target_tokens[step] ?? "", role: /** @type {"current"} */ ("current") },
  ];
}

/**
 * @typedef {{items: {label: string, value: number}[], highlight: number}} Bars
 * Labelled values for a bar list; `highlight` is the index to mark (-1 for none).
 */

/** The top candidates of a step, the chosen one highlighted. @param {Step} step @returns {Bars} */
export function candidateBars(step) {
  return {
    items: step.candidates.map((c) => ({ label: c.token, value: c.prob })),
    highlight: step.candidates.findIndex((c) => c.token === step.token),
  };
}

/**
 * Row `step` of an attention map (a cross map: over the source; a decoder self map: over the
 * output so far, keys 0..step only), its strongest key highlighted.
 * @param {AttentionMap} map @param {number | "mean"} head @param {number} step @returns {Bars}
 */
export function attentionRowBars(map, head, step) {
  const row = headMatrix(map, head)[step] ?? [];
  const visible = map.kind === "self" ? step + 1 : row.length;
  const values = row.slice(0, visible);
  return {
    items: map.key_tokens.slice(0, visible).map((label, i) => ({ label, value: values[i] })),
    highlight: values.indexOf(Math.max(...values)),
  };
}
