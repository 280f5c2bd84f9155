// Which heads copy a token from the demonstrations, read from hand-built attention maps.
import assert from "node:assert/strict";
import { test } from "node:test";

import { copyAt } from "../../static/js/copying.js";

/**
 * <s>, the demonstration "北 京 => Beijing ↵", the query "去 北 京 =>", then the answer
 * "Beijing </s>": the decoder read 11 positions. Every head is uniform over what it may see
 * unless `set` says otherwise: `set[layer][head]` is a list of [query, key, weight] cells, the
 * rest of the row spread evenly.
 * @param {Record<number, Record<number, [number, number, number][]>>} set
 */
function beijing(set = {}) {
  const fed = ["<s>", "北", "京", "=>", "Beijing", "\n", "去", "北", "京", "=>", "Beijing"];
  const roles = ["start", ...Array(5).fill("demonstration"), ...Array(4).fill("query"), "answer"];
  const map = (layer) => ({
    name: `decoder.${layer}.self`, stack: "decoder", layer, kind: "self", query_tokens: fed,
    key_tokens: fed,
    weights: [0, 1, 2].map((head) => fed.map((_, q) => {
      const cells = (set[layer]?.[head] ?? []).filter(([row]) => row === q);
      const fixed = cells.reduce((sum, [, , w]) => sum + w, 0);
      const free = q + 1 - cells.length;
      return fed.map((_, k) => {
        if (k > q) return 0;
        const cell = cells.find(([, key]) => key === k);
        return cell ? cell[2] : (1 - fixed) / free;
      });
    })),
  });
  return {
    model: "gpt", source_tokens: [], target_tokens: ["Beijing", "</s>"], translation: "Beijing",
    prompt: "北京 => Beijing\n去北京 =>", prompt_tokens: fed.slice(1, 10), roles,
    demonstration_share: {}, steps: [], timing_ms: {}, attention: [map(1), map(0)],  // any order
  };
}

test("the copying head and the previous-token head below it are found from the weights", () => {
  // Step 0 is produced at row 9 (the query's "=>"); "Beijing" is at demonstration position 4.
  const response = beijing({
    1: { 2: [[9, 4, 0.62]], 0: [[9, 4, 0.3]] },
    0: { 1: [[4, 3, 0.81]], 2: [[4, 3, 0.5], [9, 4, 0.7]] },  // 0.7 here: a lower layer can copy too
  });
  const copy = copyAt(response, 0);
  assert.ok(copy);
  assert.equal(copy.token, "Beijing");
  assert.deepEqual(copy.positions, [4]);
  assert.equal(copy.position, 4);
  assert.deepEqual(copy.copier, { layer: 0, head: 2, weight: 0.7 });
  assert.equal(copy.previous, null);  // the copier is in the first layer: nothing below it
  const upper = beijing({ 1: { 2: [[9, 4, 0.62]] }, 0: { 1: [[4, 3, 0.81]], 2: [[4, 3, 0.5]] } });
  const found = copyAt(upper, 0);
  assert.deepEqual(found?.copier, { layer: 1, head: 2, weight: 0.62 });
  assert.deepEqual(found?.previous, { layer: 0, head: 1, weight: 0.81, before: "=>" });
});

test("the weights on every demonstration occurrence of the token add up", () => {
  // "京" is at demonstration position 2 (and query position 8, which does not count).
  const response = { ...beijing({
    1: { 0: [[9, 2, 0.4], [9, 8, 0.5]], 1: [[9, 2, 0.45]] },
    0: { 0: [[2, 1, 0.9]] },
  }), target_tokens: ["京", "</s>"] };
  const copy = copyAt(response, 0);
  assert.deepEqual(copy?.positions, [2]);
  assert.deepEqual(copy?.copier, { layer: 1, head: 1, weight: 0.45 });
  assert.deepEqual(copy?.previous, { layer: 0, head: 0, weight: 0.9, before: "北" });
});

test("a token that is not in the prompt is not copied", () => {
  assert.equal(copyAt(beijing(), 1), null);  // "</s>"
  assert.equal(copyAt(beijing(), 5), null);  // no such step
  assert.equal(copyAt({ ...beijing(), target_tokens: ["Shanghai"] }, 0), null);
});

test("a token whose only occurrence is in the query is not copied from the demonstrations", () => {
  // "去" is only at position 6, a query position: however much a head looks at it, no copy.
  const response = { ...beijing({ 1: { 0: [[9, 6, 0.95]] } }), target_tokens: ["去", "</s>"] };
  assert.equal(copyAt(response, 0), null);
  // Without demonstrations at all, nothing is a demonstration token.
  const zeroShot = { ...beijing(), roles: beijing().roles.map((r) => (r === "demonstration" ? "query" : r)) };
  assert.equal(copyAt(zeroShot, 0), null);
});
