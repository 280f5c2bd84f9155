// @ts-check
// Pure functions for the step player: what step t saw and what it produced.
import { shownToken } from "./escape.js";
import { headMatrix } from "./heatmap.js";

/** @typedef {import("./types.js").AttentionMap} AttentionMap */
/** @typedef {import("./types.js").TranslateResponse} TranslateResponse */
/** @typedef {import("./types.js").GenerateResponse} GenerateResponse */
/** @typedef {import("./types.js").Step} Step */
/** @typedef {"special" | "demonstration" | "query" | "instruction" | "input" | "done" |
 *             "current"} TokenRole */

/**
 * The decoder row that produced step t's token. A translation's decoder starts at <s>, so step t
 * is row t; a GPT first reads <s> and the whole prompt, so step t is row (prompt length + t).
 * @param {TranslateResponse | GenerateResponse} response @param {number} step
 */
export function stepRow(response, step) {
  return ("prompt_tokens" in response ? response.prompt_tokens.length : 0) + step;
}

/**
 * How each position a GPT read is shaded: a few-shot prompt's demonstrations and query, a chat
 * template's instruction and input; a translation's decoder reads only its answer.
 */
const ROLE_CLASS = /** @type {const} */ ({
  start: "special", demonstration: "demonstration", query: "query", instruction: "instruction",
  input: "input", answer: "done",
});

/**
 * Tokens to show at step t: what the decoder was fed, each with its role, then the token being
 * produced. For a GPT that is <s>, the prompt (demonstrations and the query, or an instruction
 * and its input) and the answer so far; for a translation, <s> and the answer so far.
 * @param {TranslateResponse | GenerateResponse} response @param {number} step
 * @returns {{text: string, role: TokenRole}[]}
 */
export function prefixTokens(response, step) {
  const prompt = "prompt_tokens" in response ? response.prompt_tokens : [];
  const fed = ["<s>", ...prompt, ...response.target_tokens.slice(0, step)];
  const roles = "roles" in response ? response.roles : [];
  return [
    ...fed.map((text, i) => ({
      text: shownToken(text),
      role: /** @type {TokenRole} */ (ROLE_CLASS[roles[i] ?? (i === 0 ? "start" : "answer")]),
    })),
    { text: shownToken(response.target_tokens[step] ?? ""), role: /** @type {TokenRole} */ ("current") },
  ];
}

/**
 * @typedef {{items: {label: string, value: number, role?: string}[], highlight: number}} Bars
 * Labelled values for a bar list; `highlight` is the index to mark (-1 for none); an item's
 * `role` (a GPT prompt's demonstration, query, instruction or input) shades its bar.
 */

/** The top candidates of a step, the chosen one highlighted. @param {Step} step @returns {Bars} */
export function candidateBars(step) {
  return {
    items: step.candidates.map((c) => ({ label: shownToken(c.token), value: c.prob })),
    highlight: step.candidates.findIndex((c) => c.token === step.token),
  };
}

/**
 * Row `row` of an attention map (a cross map: over the source; a decoder self map: over what the
 * decoder has read, keys 0..row only), its strongest key highlighted; `roles` (a GPT's) shade
 * the keys.
 * @param {AttentionMap} map @param {number | "mean"} head @param {number} row
 * @param {string[]} [roles] @returns {Bars}
 */
export function attentionRowBars(map, head, row, roles = []) {
  const weights = headMatrix(map, head)[row] ?? [];
  const visible = map.kind === "self" ? row + 1 : weights.length;
  const values = weights.slice(0, visible);
  return {
    items: map.key_tokens.slice(0, visible).map(shownToken).map((label, i) => (
      roles[i] ? { label, value: values[i], role: roles[i] } : { label, value: values[i] })),
    highlight: values.indexOf(Math.max(...values)),
  };
}

/**
 * Each head's share of attention on the demonstrations, for the query at `row`: the sum of its
 * weights on the keys whose role is "demonstration" (0 when the prompt has none).
 * @param {AttentionMap} map @param {string[]} roles @param {number} row @returns {number[]}
 */
export function demonstrationShares(map, roles, row) {
  return map.weights.map((matrix) =>
    (matrix[row] ?? []).reduce((sum, w, k) => (roles[k] === "demonstration" ? sum + w : sum), 0));
}
