// "Inside a head" and the logit lens: the pure functions, under `node --test`.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  cellKey, cellOf, insideFigures, keyRowFigure, layerName, lensCells, vectorFigure,
} from "../../static/js/inside.js";
import { fromQuery, schemaOf, toQuery } from "../../static/js/state.js";
import { requestFor, VIEWS } from "../../static/js/views/index.js";

const WORDS = {
  dimension: "dimension", value: "value", key: "key", row: "row", thinned: "{title} (1 in {every})",
  rows: {
    x: "x", token_embedding: "token", positional_encoding: "position", q: "q", z: "z",
    heads_z: "heads", output: "output", residual: "x + output", norm: "norm",
    feed_forward: "ffn", feed_forward_residual: "+ input", feed_forward_norm: "ffn norm",
    scores: "q·k", scaled: "scaled", masked: "masked", probs: "softmax",
  },
};
const LENS_WORDS = { embedding: "embedding", layer: "layer {layer}" };

/** A translation's answer with two decoder rows over three source tokens. */
const ANSWER = {
  attention: [
    { name: "encoder.0.self", weights: [[[1, 0, 0]], [[1, 0, 0]]], query_tokens: ["a", "b", "c"] },
    { name: "decoder.1.cross", weights: [[[1, 0, 0], [0, 1, 0]], [[1, 0, 0], [0, 1, 0]]],
      query_tokens: ["<s>", "x"] },
  ],
};

/** An /api/inside answer for a causal site: 3 keys, d_head 2, 2 heads (d_model 4). */
const INSIDE = {
  site: "decoder.0.self", head: 1, query: 1, d_model: 4, d_head: 2,
  query_tokens: ["<s>", "<b>", "c"], query_token: "<b>", key_tokens: ["<s>", "<b>", "c"],
  x: [1, -1, 0.5, 0], token_embedding: [1, -1, 0, -1], positional_encoding: [0, 0, 0.5, 1],
  q: [0.5, -0.5], k: [[1, 0], [0, 1], [1, 1]], v: [[1, 2], [3, 4], [5, 6]],
  scores: [0.5, -0.5, 0], scaled: [0.35, -0.35, 0], masked: [0.35, -0.35, null],
  probs: [0.67, 0.33, 0], z: [1.66, 2.66], heads_z: [0, 0, 1.66, 2.66], output: [1, 2, 3, 4],
  residual: [2, 1, 3.5, 4], norm: [0, -1, 0.5, 1], feed_forward: [1, 1, 1, 1],
  feed_forward_residual: [1, 0, 1.5, 2], feed_forward_norm: [0, -1, 0.5, 1],
};

test("a cell's URL value comes back only when the answer has its site, head and query", () => {
  assert.equal(cellKey({ site: "decoder.1.cross", head: 1, query: 1 }), "decoder.1.cross/1/1");
  assert.deepEqual(cellOf("decoder.1.cross/1/1", ANSWER), { site: "decoder.1.cross", head: 1, query: 1 });
  assert.deepEqual(cellOf("encoder.0.self/0/2", ANSWER), { site: "encoder.0.self", head: 0, query: 2 });
  for (const value of ["decoder.1.cross/2/0", "decoder.1.cross/0/2", "decoder.0.self/0/0", "",
    "decoder.1.cross/0", "decoder.1.cross/-1/0", "decoder.1.cross/0/0/0", "<b>/0/0"]) {
    assert.equal(cellOf(value, ANSWER), null, value);
  }
  assert.equal(cellOf("decoder.1.cross/0/0", null), null);
});

test("the cell travels in the URL with the attention view state, and only when one is open", () => {
  const schema = schemaOf(VIEWS, { decoding_defaults: { strategy: "greedy" }, seed_text: "s" });
  assert.equal(schema.defaults.inside, "");
  const state = { ...schema.defaults, text: "s", inside: "decoder.1.cross/2/3" };
  const query = new URLSearchParams(toQuery(state, schema));
  assert.equal(query.get("inside"), "decoder.1.cross/2/3");
  assert.equal(fromQuery(`?${query}`, schema).inside, "decoder.1.cross/2/3");
  assert.equal(new URLSearchParams(toQuery({ ...state, inside: "" }, schema)).get("inside"), null);
});

test("the panels ask again with the request of the answer on screen, not with unsent edits", () => {
  const page = { models: [{ name: "zh-en", architecture: "encoder-decoder", source_language: "zh" }],
    scripts: { zh: "[\\u4e00-\\u9fff]", en: "[A-Za-z]" } };
  const state = { mode: "translate", text: "typed, not sent", model: "auto", strategy: "beam",
    beam_size: 3, temperature: 1, top_k: 0, top_p: 1, max_new_tokens: 9, seed: 0 };
  const shown = { mode: "translate", text: "我爱你。", model: "auto", strategy: "greedy",
    beam_size: 3, temperature: 1, top_k: 0, top_p: 1, max_new_tokens: 9, seed: 0 };
  const { path, body } = requestFor({ ...state, shown }, page);
  assert.equal(path, "/api/translate");
  assert.deepEqual([body.text, body.model, body.strategy], ["我爱你。", "zh-en", "greedy"]);
});

test("every step has its figure, with the response's own numbers", () => {
  const figures = insideFigures(INSIDE, WORDS, 10);
  assert.deepEqual(Object.keys(figures),
    ["x", "q", "k", "scores", "scaled", "masked", "probs", "v", "z", "heads", "residual", "ffn"]);
  assert.deepEqual(figures.x.data[0].z, [INSIDE.token_embedding, INSIDE.positional_encoding, INSIDE.x]);
  assert.deepEqual(figures.x.layout.yaxis.ticktext, ["token", "position", "x"]);
  assert.deepEqual(figures.k.data[0].z, INSIDE.k);
  assert.deepEqual(figures.v.data[0].z, INSIDE.v);
  assert.deepEqual(figures.probs.data[0].z, [INSIDE.probs]);
  assert.deepEqual([figures.probs.data[0].zmin, figures.probs.data[0].zmax], [0, 1]);
  assert.equal(figures.probs.data[0].colorscale, "Viridis");  // the head view's scale
  assert.deepEqual(figures.masked.data[0].z, [[0.35, -0.35, null]]);  // drawn as masked
  assert.equal(figures.masked.data[0].hoverongaps, false);
  // The joined heads: this head's slice (head 1 of d_head 2: dimensions 2 and 3) is framed.
  const [frame] = figures.heads.layout.shapes;
  assert.deepEqual([frame.x0, frame.x1], [1.5, 3.5]);
  assert.deepEqual(figures.heads.data[0].z, [INSIDE.heads_z, INSIDE.output]);
  assert.deepEqual(figures.residual.data[0].z, [INSIDE.x, INSIDE.output, INSIDE.residual, INSIDE.norm]);
  // Without the two parts (a higher layer, or cross-attention), x is one row.
  const higher = insideFigures({ ...INSIDE, token_embedding: null, positional_encoding: null }, WORDS);
  assert.deepEqual(higher.x.data[0].z, [INSIDE.x]);
});

test("tokens and words are escaped before they reach Plotly", () => {
  const figure = keyRowFigure([0.5, 0.5], ["<b>", "&"], "<i>row</i>", WORDS);
  assert.deepEqual(figure.data[0].customdata, [["&lt;b&gt;", "&amp;"]]);
  assert.deepEqual(figure.layout.xaxis.ticktext, ["&lt;b&gt;", "&amp;"]);
  assert.deepEqual(figure.layout.yaxis.ticktext, ["&lt;i&gt;row&lt;/i&gt;"]);
  const vector = vectorFigure([{ label: "a<b", values: [1, -2] }], { ...WORDS, value: "v&w" });
  assert.equal(vector.data[0].hovertemplate,
    "row %{customdata}<br>dimension %{x}<br>v&amp;w %{z:.4f}<extra></extra>");
  assert.deepEqual([vector.data[0].zmin, vector.data[0].zmax], [-2, 2]);  // centred on 0
  assert.deepEqual(vector.layout.yaxis.ticktext, ["a&lt;b"]);
});

test("the lens strip marks the layer from which the step's token stays on top", () => {
  const top = (token, prob) => [{ token, prob }];
  const lens = {
    layers: ["decoder.embed", "decoder.0", "decoder.1", "decoder.2"],
    steps: [{ index: 0, token: "cat", layers: [
      { layer: "decoder.embed", top: top("cat", 0.1) }, { layer: "decoder.0", top: top("a", 0.2) },
      { layer: "decoder.1", top: top("cat", 0.5) }, { layer: "decoder.2", top: top("cat", 0.9) },
    ] }],
  };
  const cells = lensCells(lens, 0, LENS_WORDS);
  assert.deepEqual(cells.map((c) => c.layer), ["embedding", "layer 0", "layer 1", "layer 2"]);
  assert.deepEqual(cells.map((c) => c.chosen), [true, false, true, true]);
  assert.deepEqual(cells.map((c) => c.first), [false, false, true, false]);
  assert.deepEqual(lensCells(lens, 1, LENS_WORDS), []);  // no such step
  const never = { ...lens, steps: [{ ...lens.steps[0], token: "dog" }] };
  assert.ok(lensCells(never, 0, LENS_WORDS).every((c) => !c.first && !c.chosen));
  assert.equal(layerName("decoder.embed", LENS_WORDS), "embedding");
  assert.equal(layerName("decoder.11", LENS_WORDS), "layer 11");
});
