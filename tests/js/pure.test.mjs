// Pure front-end functions under `node --test` (no browser, no build step).
import assert from "node:assert/strict";
import { test } from "node:test";

import { escapeLabel } from "../../static/js/escape.js";
import { findMap, headFigure, headMatrix, headTrace, layersOf, modelFigure } from "../../static/js/heatmap.js";
import { DEFAULTS, fromQuery, isSeedRequest, modelFor, requestBody, toQuery } from "../../static/js/state.js";
import { attentionRowBars, candidateBars, prefixTokens } from "../../static/js/steps.js";

/** A response with 2 layers × 2 heads, built by hand. */
function response() {
  const causal = [[1, 0, 0], [0.4, 0.6, 0], [0.2, 0.3, 0.5]];
  const uniform = [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]];
  const attention = [];
  for (const layer of [0, 1]) {
    attention.push({ name: `encoder.${layer}.self`, stack: "encoder", layer, kind: "self",
      query_tokens: ["猫", "猫"], key_tokens: ["猫", "猫"], weights: [[[0.9, 0.1], [0.2, 0.8]], [[0.5, 0.5], [0.5, 0.5]]] });
    attention.push({ name: `decoder.${layer}.self`, stack: "decoder", layer, kind: "self",
      query_tokens: ["<s>", "a", "<b>"], key_tokens: ["<s>", "a", "<b>"], weights: [causal, causal] });
    attention.push({ name: `decoder.${layer}.cross`, stack: "decoder", layer, kind: "cross",
      query_tokens: ["<s>", "a", "<b>"], key_tokens: ["猫", "猫"], weights: [uniform, [[1, 0], [0, 1], [1, 0]]] });
  }
  return { model: "zh-en", source_tokens: ["猫", "猫"], target_tokens: ["a", "<b>", "</s>"], translation: "a <b>",
    steps: [0, 1, 2].map((index) => ({ index, token: ["a", "<b>", "</s>"][index], token_id: index, prob: 0.7,
      candidates: [{ token: ["a", "<b>", "</s>"][index], prob: 0.7 }, { token: "x", prob: 0.2 }] })),
    attention, timing_ms: {} };
}

test("labels are escaped for Plotly", () => {
  assert.equal(escapeLabel("<img src=x onerror=alert(1)> & co"), "&lt;img src=x onerror=alert(1)&gt; &amp; co");
});

test("the masked future is null, not zero, and axes are numeric", () => {
  const map = findMap(response(), "decoder.self", 1);
  const trace = headTrace(map, 0);
  assert.deepEqual(trace.z, [[1, null, null], [0.4, 0.6, null], [0.2, 0.3, 0.5]]);
  assert.deepEqual(trace.y, [0, 1, 2]);
  const figure = headFigure(map, 0);
  assert.deepEqual(figure.layout.yaxis.ticktext, ["&lt;s&gt;", "a", "&lt;b&gt;"]);
  assert.equal(figure.layout.yaxis.autorange, "reversed");
});

test("repeated tokens keep their own rows and the mean averages heads", () => {
  const map = findMap(response(), "encoder.self", 0);
  assert.deepEqual(headTrace(map, 0).x, [0, 1]);
  assert.deepEqual(headMatrix(map, "mean"), [[0.7, 0.3], [0.35, 0.65]]);
});

test("the model view has one trace per layer and head, each on its own axes", () => {
  const figure = modelFigure(response(), "decoder.cross");
  assert.equal(figure.data.length, 4);
  assert.deepEqual(figure.data.map((t) => t.meta), [[0, 0], [0, 1], [1, 0], [1, 1]]);
  assert.deepEqual(figure.data.map((t) => t.xaxis), ["x", "x2", "x3", "x4"]);
  assert.deepEqual(layersOf(response(), "decoder.cross"), [0, 1]);
});

test("step t shows <s>, the tokens so far, and the token being produced", () => {
  assert.deepEqual(prefixTokens(response(), 1), [
    { text: "<s>", role: "special" }, { text: "a", role: "done" }, { text: "<b>", role: "current" }]);
  const self = attentionRowBars(findMap(response(), "decoder.self", 0), 0, 1);
  assert.deepEqual(self.items.map((item) => item.value), [0.4, 0.6]);  // keys 0..t only
  assert.equal(self.highlight, 1);
  const bars = candidateBars(response().steps[1]);
  // Raw tokens: the page puts them in as textContent, never as HTML.
  assert.deepEqual(bars.items.map((item) => item.label), ["<b>", "x"]);
  assert.equal(bars.highlight, 0);
});

test("the URL round-trips the state and ignores junk", () => {
  const state = { ...DEFAULTS, text: "我爱你。", view: "decoder.self", layer: 1, head: 2, step: 3, top_p: 0.9 };
  const back = fromQuery(`?${toQuery(state)}`, "seed");
  assert.deepEqual(back, state);
  const junk = fromQuery("?view=evil&layer=abc&head=<x>", "seed");
  assert.equal(junk.view, DEFAULTS.view);
  assert.equal(junk.layer, DEFAULTS.layer);
  assert.equal(junk.head, "mean");
  assert.equal(junk.text, "seed");
});

test("the direction follows the script unless chosen", () => {
  assert.equal(modelFor("我有一只猫。", "auto"), "zh-en");
  assert.equal(modelFor("I have a cat.", "auto"), "en-zh");
  assert.equal(modelFor("I have a cat.", "zh-en"), "zh-en");
  assert.equal(requestBody({ ...DEFAULTS, text: "猫" }).model, "zh-en");
  assert.ok(isSeedRequest({ ...DEFAULTS, text: "seed" }, "seed"));
  assert.ok(!isSeedRequest({ ...DEFAULTS, text: "seed", seed: 3 }, "seed"));
});
