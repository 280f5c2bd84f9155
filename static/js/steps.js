// @ts-check
// Pure functions for the step player: what step t saw and what it produced.
import { escapeLabel } from "./escape.js";
import { headMatrix } from "./heatmap.js";

/** @typedef {import("./types.js").AttentionMap} AttentionMap */
/** @typedef {import("./types.js").TranslateResponse} TranslateResponse */
/** @typedef {import("./types.js").Step} Step */

const BAR_COLOUR = "#2a5bd7";
const CHOSEN_COLOUR = "#c98f00";

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

/** Bars on a numeric axis labelled with escaped tokens (repeated tokens stay separate). */
function bars(labels, values, highlight, title, yTitle) {
  return {
    data: [{
      type: "bar",
      x: labels.map((_, i) => i),
      y: values,
      customdata: labels.map(escapeLabel),
      marker: { color: labels.map((_, i) => (i === highlight ? CHOSEN_COLOUR : BAR_COLOUR)) },
      hovertemplate: "%{customdata}: %{y:.4f}<extra></extra>",
    }],
    layout: {
      xaxis: { tickvals: labels.map((_, i) => i), ticktext: labels.map(escapeLabel),
               tickangle: labels.length > 6 ? -45 : 0, title: { text: title } },
      yaxis: { range: [0, 1], title: { text: yTitle } },
      margin: { l: 50, r: 10, t: 10, b: 80 },
    },
  };
}

/** The top candidates of a step, the chosen one highlighted. @param {Step} step */
export function candidatesFigure(step) {
  const labels = step.candidates.map((c) => c.token);
  const chosen = step.candidates.findIndex((c) => c.token === step.token);
  return bars(labels, step.candidates.map((c) => c.prob), chosen, "candidate next tokens", "probability");
}

/**
 * Row `step` of an attention map (a cross map: over the source; a decoder self map: over the
 * output so far, keys 0..step only).
 * @param {AttentionMap} map @param {number | "mean"} head @param {number} step
 */
export function attentionRowFigure(map, head, step) {
  const row = headMatrix(map, head)[step] ?? [];
  const visible = map.kind === "self" ? step + 1 : row.length;
  const keys = map.key_tokens.slice(0, visible);
  const values = row.slice(0, visible);
  const strongest = values.indexOf(Math.max(...values));
  return bars(keys, values, strongest, map.kind === "self" ? "output so far" : "source tokens", "attention");
}
