// @ts-check
// Whether the token a GPT produced at a step was copied from its demonstrations, and by which
// heads, read from the attention itself (never a fixed list of heads). An induction head at the
// position of token A attends to the position just after an earlier A: the earlier occurrence of
// the token it is about to write. It can find that position because a previous-token head in a
// lower layer wrote "the token before me is A" into it. Pure: node tests it on hand-built maps.
import { stepRow } from "./steps.js";

/** @typedef {import("./types.js").GenerateResponse} GenerateResponse */
/** @typedef {import("./types.js").AttentionMap} AttentionMap */
/** @typedef {{layer: number, head: number, weight: number}} HeadWeight */

/**
 * @typedef {object} Copy
 * @property {string} token the token produced at the step
 * @property {number[]} positions the demonstration positions that hold that token
 * @property {HeadWeight} copier the decoder self-attention head whose row for the step puts the
 *   most weight on those positions (its summed weight on them)
 * @property {number} position the one of them the copier weighs most
 * @property {(HeadWeight & {before: string}) | null} previous the head, in a layer below the
 *   copier's, that attends most from `position` to the position before it (whose token is
 *   `before`); null when the copier is in the first layer
 */

/** The decoder self-attention maps, lowest layer first. @param {GenerateResponse} response */
function selfMaps(response) {
  return response.attention.filter((map) => map.stack === "decoder" && map.kind === "self")
    .sort((a, b) => a.layer - b.layer);
}

/**
 * The head of `maps` with the largest `score(matrix)`, the first one on a tie.
 * @param {AttentionMap[]} maps @param {(matrix: number[][]) => number} score
 * @returns {HeadWeight | null}
 */
function bestHead(maps, score) {
  /** @type {HeadWeight | null} */
  let best = null;
  for (const map of maps) {
    map.weights.forEach((matrix, head) => {
      const weight = score(matrix);
      if (best === null || weight > best.weight) best = { layer: map.layer, head, weight };
    });
  }
  return best;
}

/**
 * How step `step`'s token came from the demonstrations, or null when no demonstration position
 * holds that token (or the response has no decoder self-attention).
 * @param {GenerateResponse} response @param {number} step @returns {Copy | null}
 */
export function copyAt(response, step) {
  const token = response.target_tokens[step];
  const maps = selfMaps(response);
  if (token === undefined || maps.length === 0) return null;
  const keys = maps[0].key_tokens;
  const positions = keys.flatMap((key, p) => (
    response.roles[p] === "demonstration" && key === token ? [p] : []));
  if (positions.length === 0) return null;
  const row = stepRow(response, step);
  const copier = bestHead(maps, (matrix) =>
    positions.reduce((sum, p) => sum + (matrix[row]?.[p] ?? 0), 0));
  if (!copier) return null;
  const weights = maps.find((map) => map.layer === copier.layer)?.weights[copier.head][row] ?? [];
  const position = positions.reduce((a, b) => ((weights[b] ?? 0) > (weights[a] ?? 0) ? b : a));
  const below = maps.filter((map) => map.layer < copier.layer);
  const previous = position > 0 ? bestHead(below, (matrix) => matrix[position]?.[position - 1] ?? 0)
    : null;
  return {
    token, positions, copier, position,
    previous: previous ? { ...previous, before: keys[position - 1] } : null,
  };
}
