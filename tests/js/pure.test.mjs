// Pure front-end functions under `node --test` (no browser, no build step).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { postJson } from "../../static/js/api.js";
import { escapeLabel, shownToken } from "../../static/js/escape.js";
import {
  answerToPrompt, findMap, headFigure, headMatrix, headTrace, layersOf, modelFigure,
  positionalFigure, tokenAxis,
} from "../../static/js/heatmap.js";
import {
  gptModel, languageOf, modelFor, sourceLanguageFor, translationModels,
} from "../../static/js/models.js";
import {
  DECODING_KEYS, decodingOf, fromQuery, isSeedRequest, requestOf, schemaOf, toQuery, urlState,
  viewOf,
} from "../../static/js/state.js";
import {
  attentionRowBars, candidateBars, demonstrationShares, prefixTokens, stepRow,
} from "../../static/js/steps.js";
import { format } from "../../static/js/text.js";
import { gpt, queryOf } from "../../static/js/views/gpt.js";
import { VIEWS } from "../../static/js/views/index.js";
import { translate } from "../../static/js/views/translate.js";

/** The server's decoding defaults and script patterns, as the page's initial data holds them. */
const DECODING = { strategy: "greedy", max_new_tokens: 64, beam_size: 4, temperature: 1,
  top_k: 0, top_p: 1, seed: 0, top_n: 5 };
const SCRIPTS = { zh: "[\\u3400-\\u9fff\\uf900-\\ufaff]", en: "[A-Za-z]" };
const MODELS = [
  { name: "zh-en", architecture: "encoder-decoder", source_language: "zh", target_language: "en" },
  { name: "gpt", architecture: "decoder-only", source_language: null, target_language: "en" },
  { name: "en-zh", architecture: "encoder-decoder", source_language: "en", target_language: "zh" },
];
const PAGE = { decoding_defaults: DECODING, seed_text: "seed", models: MODELS, scripts: SCRIPTS };
const SCHEMA = schemaOf(VIEWS, PAGE);
const DEFAULTS = SCHEMA.defaults;
/** The figures' words, as templates/index.html's `common.plot` holds them. */
const WORDS = { weight: "weight", query: "query", key: "key", keys: "keys (attended to)",
  queries: "queries (attending)", thinned: "{title} (one label in {every})",
  masked: "grey: masked future", mean_of_heads: "mean of heads", head: "head {head}",
  layer: "layer {layer}", position: "position", dimension: "dimension", value: "value" };
/** Other words for the same figures: what a page in Chinese would give them. */
const ZH_WORDS = { weight: "权重", query: "查询", key: "键", keys: "键（被关注）",
  queries: "查询（关注者）", thinned: "{title}（每 {every} 个标一个）", masked: "灰色：被遮住的未来",
  mean_of_heads: "各头平均", head: "第 {head} 个头", layer: "第 {layer} 层", position: "位置",
  dimension: "维度", value: "值" };

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
  const trace = headTrace(map, 0, WORDS);
  assert.deepEqual(trace.z, [[1, null, null], [0.4, 0.6, null], [0.2, 0.3, 0.5]]);
  assert.deepEqual(trace.y, [0, 1, 2]);
  const figure = headFigure(map, 0, WORDS);
  assert.deepEqual(figure.layout.yaxis.ticktext, ["&lt;s&gt;", "a", "&lt;b&gt;"]);
  assert.equal(figure.layout.yaxis.autorange, "reversed");
});

test("repeated tokens keep their own rows and the mean averages heads", () => {
  const map = findMap(response(), "encoder.self", 0);
  assert.deepEqual(headTrace(map, 0, WORDS).x, [0, 1]);
  assert.deepEqual(headMatrix(map, "mean"), [[0.7, 0.3], [0.35, 0.65]]);
});

test("the model view has one trace per layer and head, each on its own axes", () => {
  const figure = modelFigure(response(), "decoder.cross", WORDS);
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
  const back = fromQuery(`?${toQuery(state, SCHEMA)}`, SCHEMA);
  assert.deepEqual(back, state);
  const junk = fromQuery("?view=evil&layer=abc&head=<x>", SCHEMA);
  assert.equal(junk.view, "decoder.cross");
  assert.equal(junk.layer, DEFAULTS.layer);
  assert.equal(junk.head, "mean");
  assert.equal(junk.text, "seed");
});

test("the direction follows the script unless chosen, by the models' source language", () => {
  assert.equal(modelFor("我有一只猫。", "auto", MODELS, SCRIPTS), "zh-en");
  assert.equal(modelFor("I have a cat.", "auto", MODELS, SCRIPTS), "en-zh");
  assert.equal(modelFor("Tom 有一只猫。", "auto", MODELS, SCRIPTS), "zh-en");  // Han first
  assert.equal(modelFor("123", "auto", MODELS, SCRIPTS), "en-zh");  // neither: the last script
  assert.equal(modelFor("I have a cat.", "zh-en", MODELS, SCRIPTS), "zh-en");
  // Names are not known in advance: whatever reads the text's language is chosen.
  const renamed = [{ ...MODELS[0], name: "big-zh" }, { ...MODELS[2], name: "small-en" }];
  assert.equal(modelFor("猫", "auto", renamed, SCRIPTS), "big-zh");
  assert.equal(modelFor("cat", "auto", renamed, SCRIPTS), "small-en");
  assert.equal(modelFor("cat", "auto", [MODELS[0]], SCRIPTS), null);  // none reads English
  assert.equal(languageOf("猫", { en: "[A-Za-z]" }), "en");
  assert.equal(languageOf("猫", {}), null);
  assert.equal(sourceLanguageFor("猫", "en-zh", MODELS, SCRIPTS), "en");
  assert.equal(sourceLanguageFor("猫", "auto", MODELS, SCRIPTS), "zh");
  const { path, body } = translate.request({ ...DEFAULTS, text: "猫" }, PAGE);
  assert.equal(path, "/api/translate");
  assert.equal(body.model, "zh-en");
  assert.equal(body.text, "猫");
  assert.deepEqual(Object.keys(body).sort(), ["model", "text", ...DECODING_KEYS].sort());
  assert.ok(isSeedRequest({ ...DEFAULTS, text: "seed" }, SCHEMA));
  assert.ok(!isSeedRequest({ ...DEFAULTS, text: "seed", seed: 3 }, SCHEMA));
  assert.ok(!isSeedRequest({ ...DEFAULTS, text: "seed", model: "zh-en" }, SCHEMA));
});

test("example sentences follow the source language", () => {
  const page = { ...PAGE, text: { views: { translate: { examples: { zh: ["猫。"], en: ["Cat."] } } } } };
  assert.deepEqual(translate.examples({ text: "我", model: "auto" }, page), [{ label: "猫。", value: "猫。" }]);
  assert.deepEqual(translate.examples({ text: "我", model: "en-zh" }, page).map((e) => e.value), ["Cat."]);
});

test("decoding defaults come from the server's, passed in", () => {
  const server = { ...DECODING, beam_size: 2, max_new_tokens: 32, temperature: 0.8 };
  const schema = schemaOf(VIEWS, { decoding_defaults: server, seed_text: "s" });
  const state = fromQuery("", schema);
  assert.deepEqual(decodingOf(state), { strategy: "greedy", beam_size: 2, temperature: 0.8,
    top_k: 0, top_p: 1, max_new_tokens: 32, seed: 0 });
  assert.equal("top_n" in state, false);  // not a setting of the page: the server's default
  // A value at the server's default stays out of the link; the old hard-coded one does not.
  assert.equal(new URLSearchParams(toQuery(state, schema)).get("beam_size"), null);
  assert.equal(new URLSearchParams(toQuery({ ...state, beam_size: 4 }, schema)).get("beam_size"), "4");
  assert.ok(isSeedRequest({ ...state, text: "s" }, schema));
  assert.ok(!isSeedRequest({ ...state, text: "s", max_new_tokens: 64 }, schema));
});

test("each view's URL carries its own keys and the shared ones, not another view's", () => {
  const state = { ...DEFAULTS, text: "我爱你。", model: "en-zh", prompt: "猫 =>", stop_at_line_end: false,
    strategy: "sample", temperature: 0.7, layer: 1 };
  const asTranslate = new URLSearchParams(toQuery(state, SCHEMA));
  assert.deepEqual([...asTranslate.keys()],
    ["mode", "text", "model", "strategy", "temperature", "layer"]);
  assert.equal(asTranslate.get("mode"), "translate");
  const asGpt = new URLSearchParams(toQuery({ ...state, mode: "gpt", view: "decoder.self" }, SCHEMA));
  assert.deepEqual([...asGpt.keys()],
    ["mode", "prompt", "stop_at_line_end", "strategy", "temperature", "layer"]);
  assert.equal(asGpt.get("text"), null);
  assert.equal(asGpt.get("model"), null);
  // Round trip of a GPT view: its keys come back; the translate fields keep their defaults.
  const gptState = { ...DEFAULTS, mode: "gpt", view: "decoder.self", prompt: "我 => I\n猫 =>",
    stop_at_line_end: false, top_k: 5, head: 1, step: 2 };
  assert.deepEqual(fromQuery(`?${toQuery(gptState, SCHEMA)}`, SCHEMA), gptState);
  assert.deepEqual(Object.keys(requestOf(gptState, SCHEMA)),
    ["mode", "prompt", "stop_at_line_end", "demos", "shots", ...DECODING_KEYS]);
});

test("old shared ?mode=gpt links still open the GPT view; an unknown mode opens the first", () => {
  const old = fromQuery("?text=seed&mode=gpt&view=decoder.self&prompt=%E7%8C%AB+%3D%3E&top_k=5", SCHEMA);
  assert.deepEqual([old.mode, old.prompt, old.top_k, old.view], ["gpt", "猫 =>", 5, "decoder.self"]);
  assert.equal(fromQuery("?mode=gpt&text=other", SCHEMA).text, "seed");  // not a GPT key
  assert.equal(fromQuery("?mode=gpt&view=encoder.self", SCHEMA).view, "decoder.self");
  for (const search of ["?mode=bert", "?mode=", ""]) {
    assert.equal(fromQuery(search, SCHEMA).mode, "translate");
  }
  assert.equal(viewOf("bert", VIEWS), translate);
  // A server without a GPT: the schema has only the views it can show, and the link falls back.
  const only = schemaOf([translate], PAGE);
  assert.equal(fromQuery("?mode=gpt&prompt=x", only).mode, "translate");
  assert.equal(gpt.available(PAGE), true);
  assert.equal(gpt.available({ ...PAGE, models: [MODELS[0]] }), false);
});

test("placeholders in the page's words are filled in", () => {
  assert.equal(format("Translating “{sentence}” with {model}…", { sentence: "猫", model: "zh-en" }),
    "Translating “猫” with zh-en…");
  assert.equal(format("step {step} of {last}", { step: 0, last: 3 }), "step 0 of 3");
  assert.equal(format("{missing} stays", {}), "{missing} stays");
  // Plotly's own placeholders are not the page's: never filled in.
  assert.equal(format("{key} %{y} %{z:.3f}", { key: "k", y: 1 }), "k %{y} %{z:.3f}");
});

test("the figures' words are the ones given: a Chinese page gets Chinese titles", () => {
  const map = findMap(response(), "decoder.self", 1);
  const figure = headFigure(map, 1, ZH_WORDS, { x: 1, y: Infinity });
  assert.equal(figure.layout.title.text, "decoder.1.self · 第 1 个头");
  assert.equal(figure.layout.xaxis.title.text, "键（被关注）（每 3 个标一个）");
  assert.equal(figure.layout.yaxis.title.text, "查询（关注者）");
  assert.equal(figure.layout.annotations[0].text, "灰色：被遮住的未来");
  const [trace] = figure.data;
  assert.equal(trace.colorbar.title.text, "权重");
  assert.equal(trace.hovertemplate,
    "查询 %{customdata[0]}<br>键 %{customdata[1]}<br>权重 %{z:.4f}<extra></extra>");
  assert.equal(headFigure(map, "mean", ZH_WORDS).layout.title.text, "decoder.1.self · 各头平均");
  const grid = modelFigure(response(), "decoder.cross", ZH_WORDS);
  assert.deepEqual(grid.layout.annotations.map((a) => a.text).sort(),
    ["第 0 个头", "第 0 层", "第 1 个头", "第 1 层"]);
  const positional = positionalFigure([[0, 1], [1, 0]], ZH_WORDS);
  assert.equal(positional.layout.xaxis.title.text, "维度");
  assert.equal(positional.layout.yaxis.title.text, "位置");
  assert.equal(positional.data[0].hovertemplate, "位置 %{y}<br>维度 %{x}<br>值 %{z:.3f}<extra></extra>");
  // English ones, and words with markup in them are escaped as the tokens are.
  assert.equal(headFigure(map, 0, WORDS).layout.xaxis.title.text, "keys (attended to)");
  const marked = headFigure(map, 0, { ...WORDS, keys: "<b>keys</b>", weight: "w&t" });
  assert.equal(marked.layout.xaxis.title.text, "&lt;b&gt;keys&lt;/b&gt;");
  assert.match(marked.data[0].hovertemplate, /^query %\{customdata\[0\]\}<br>key .*<br>w&amp;t %\{z/);
});

test("the template gives the figures every word they use, and no other", () => {
  const page = readFileSync(new URL("../../templates/index.html", import.meta.url), "utf8");
  const plot = page.match(/common\.update\(\{"plot": \{([\s\S]*?)\}\}\)/);
  assert.ok(plot, "templates/index.html sets common.plot");
  const keys = [...plot[1].matchAll(/"(\w+)":/g)].map((m) => m[1]);
  assert.deepEqual(keys.sort(), Object.keys(WORDS).sort());
});

/**
 * A GPT answer built by hand: <s>, a one-pair demonstration "A => a \n", the query "B =>", and
 * the answer "b </s>". The decoder read 7 positions (the last token is not fed back).
 */
function gptResponse() {
  const fed = ["<s>", "A", "=>", "a", "\n", "B", "=>", "b"];
  const rows = fed.map((_, q) => fed.map((_, k) => (k <= q ? 1 / (q + 1) : 0)));
  const copy = fed.map((_, q) => fed.map((_, k) => (k === Math.max(0, q - 3) ? 1 : 0)));
  return {
    model: "gpt", source_tokens: [], target_tokens: ["b", "</s>"], translation: "b",
    prompt_tokens: fed.slice(1, 7),
    roles: ["start", "demonstration", "demonstration", "demonstration", "demonstration", "query",
      "query", "answer"],
    demonstration_share: { "decoder.0.self": [0.5, 0.25] },
    steps: [0, 1].map((index) => ({ index, token: ["b", "</s>"][index], token_id: index, prob: 0.9,
      candidates: [{ token: ["b", "</s>"][index], prob: 0.9 }] })),
    attention: [{ name: "decoder.0.self", stack: "decoder", layer: 0, kind: "self", query_tokens: fed,
      key_tokens: fed, weights: [rows, copy] }],
    timing_ms: {},
  };
}

test("GPT mode asks /api/generate with the prompt and the first GPT", () => {
  assert.equal(gptModel(MODELS), "gpt");
  assert.equal(gptModel(MODELS.filter((m) => m.name !== "gpt")), null);
  assert.deepEqual(translationModels(MODELS).map((m) => m.name), ["zh-en", "en-zh"]);
  const { path, body } = gpt.request({ ...DEFAULTS, mode: "gpt", prompt: "猫 =>", top_k: 5 }, PAGE);
  assert.equal(path, "/api/generate");
  assert.deepEqual([body.prompt, body.model, body.top_k, body.text, body.stop_at_line_end],
    ["猫 =>", "gpt", 5, undefined, true]);
  assert.equal(translate.request({ ...DEFAULTS, text: "猫" }, PAGE).body.stop_at_line_end, undefined);
  assert.equal(fromQuery("?mode=gpt&stop_at_line_end=false", SCHEMA).stop_at_line_end, false);
  assert.ok(!isSeedRequest({ ...DEFAULTS, mode: "gpt", text: "seed" }, SCHEMA));
});

test("the query of a prompt is its last line before the arrow", () => {
  assert.equal(queryOf("我爱你。 => I love you.\n我有一只猫。 =>"), "我有一只猫。");
  assert.equal(queryOf("  我有一只猫。 =>  \n"), "我有一只猫。");
  assert.equal(queryOf("=>"), "");
});

test("a GPT's step t reads <s>, the prompt by role and the answer so far", () => {
  const response = gptResponse();
  assert.equal(stepRow(response, 0), 6);  // the row of the prompt's last token, "=>"
  assert.equal(stepRow(response, 1), 7);
  assert.equal(stepRow(/** a translation */ { target_tokens: [] }, 1), 1);
  assert.deepEqual(prefixTokens(response, 1).map((t) => t.role),
    ["special", "demonstration", "demonstration", "demonstration", "demonstration", "query", "query",
      "done", "current"]);
  assert.deepEqual(prefixTokens(response, 1).map((t) => t.text).slice(-2), ["b", "</s>"]);
  const bars = attentionRowBars(response.attention[0], 0, 6, response.roles);
  assert.equal(bars.items.length, 7);  // keys 0..6: nothing from the future
  assert.deepEqual(bars.items.map((i) => i.role), response.roles.slice(0, 7));
  assert.ok(bars.items.every((i) => Math.abs(i.value - 1 / 7) < 1e-12));
});

test("each head's share on the demonstrations sums its weights on their keys", () => {
  const response = gptResponse();
  const [uniform, copy] = demonstrationShares(response.attention[0], response.roles, 6);
  assert.ok(Math.abs(uniform - 4 / 7) < 1e-12);  // 4 demonstration keys of 7, uniform
  assert.equal(copy, 1);  // row 6 attends to key 3 ("a"), a demonstration
  assert.deepEqual(demonstrationShares(response.attention[0], response.roles, 7), [4 / 8, 1]);  // key 4: "\\n"
});

test("the answer-to-prompt block keeps the answer's rows and the prompt's columns", () => {
  const response = gptResponse();
  const block = answerToPrompt(response.attention[0], response.prompt_tokens.length);
  assert.deepEqual(block.query_tokens, ["=>", "b"]);
  assert.deepEqual(block.key_tokens, ["<s>", "A", "=>", "a", "\n", "B", "=>"]);
  assert.equal(block.kind, "cross");  // nothing masked in it
  assert.deepEqual(block.weights[1], [[0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0]]);
  assert.ok(Math.abs(block.weights[0][1].reduce((a, b) => a + b) - 7 / 8) < 1e-12);  // 1/8 on "b"
  assert.deepEqual(headTrace(block, 1, WORDS).z[0], [0, 0, 0, 1, 0, 0, 0]);  // no null (masked) cells
});

test("the link shares the request of what is shown, with the live view", () => {
  const shown = requestOf({ ...DEFAULTS, text: "我爱你。" }, SCHEMA);
  assert.deepEqual(Object.keys(shown).sort(), ["beam_size", "max_new_tokens", "mode", "model",
    "seed", "strategy", "temperature", "text", "top_k", "top_p"]);
  // Typed and changed since, not sent: the link still says what is on screen.
  const live = { ...DEFAULTS, text: "   ", strategy: "beam", temperature: 0, layer: 1, step: 2 };
  const query = new URLSearchParams(toQuery(urlState(live, shown), SCHEMA));
  assert.equal(query.get("text"), "我爱你。");
  assert.equal(query.get("strategy"), null);
  assert.equal(query.get("temperature"), null);
  assert.equal(query.get("layer"), "1");
  assert.equal(query.get("step"), "2");
  assert.equal(new URLSearchParams(toQuery(urlState(live, null), SCHEMA)).get("strategy"), "beam");
});

test("a line break shows as ↵ in chips, bars and labels", () => {
  assert.equal(shownToken("\n"), "↵");
  assert.equal(shownToken("猫"), "猫");
  const axis = tokenAxis(["a", "\n", "<b>"], "keys", WORDS);
  assert.deepEqual(axis.ticktext, ["a", "↵", "&lt;b&gt;"]);
});

test("with more tokens than labels fit, every k-th token is labelled", () => {
  const tokens = Array.from({ length: 10 }, (_, i) => `t${i}`);
  assert.deepEqual(tokenAxis(tokens, "keys", WORDS).tickvals, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const thinned = tokenAxis(tokens, "keys", WORDS, 4);
  assert.deepEqual(thinned.tickvals, [0, 3, 6, 9]);
  assert.deepEqual(thinned.ticktext, ["t0", "t3", "t6", "t9"]);
  assert.equal(thinned.title.text, "keys (one label in 3)");
});

test("a failed request says why in the page's words", async (t) => {
  const words = { unreachable: "no server", no_detail: "got {status} {status_text}",
    retry: "{detail}, again in {seconds} s" };
  const answer = (status, body, headers = {}) => async () => new Response(JSON.stringify(body),
    { status, statusText: "Busy", headers });
  t.mock.method(globalThis, "fetch", async () => { throw new TypeError("fetch failed"); });
  await assert.rejects(postJson("/api/translate", {}, words), { message: "no server" });
  t.mock.method(globalThis, "fetch", answer(503, {}, { "Retry-After": "2" }));
  await assert.rejects(postJson("/api/translate", {}, words), { message: "got 503 Busy, again in 2 s" });
  assert.equal(globalThis.fetch.mock.callCount(), 2);  // retried once by itself, after 2 s
  t.mock.method(globalThis, "fetch", answer(422, { detail: "text is empty" }));
  await assert.rejects(postJson("/api/translate", {}, words), { message: "text is empty" });
  t.mock.method(globalThis, "fetch", answer(200, { translation: "a" }));
  assert.deepEqual(await postJson("/api/translate", {}, words), { translation: "a" });
});


test("a 503 is retried once after its Retry-After, and the page is told first", async (t) => {
  const words = { unreachable: "no server", no_detail: "got {status}", retry: "{detail}, {seconds} s" };
  const replies = [
    new Response("{}", { status: 503, headers: { "Retry-After": "0" } }),
    new Response(JSON.stringify({ translation: "a" }), { status: 200 }),
  ];
  t.mock.method(globalThis, "fetch", async () => replies.shift());
  const waits = [];
  assert.deepEqual(await postJson("/api/translate", {}, words, (s) => waits.push(s)),
    { translation: "a" });
  assert.deepEqual(waits, [0]);
  t.mock.method(globalThis, "fetch", async () =>
    new Response("{}", { status: 503, headers: { "Retry-After": "600" } }));
  await assert.rejects(postJson("/api/translate", {}, words, (s) => waits.push(s)),
    { message: "got 503, 600 s" });  // too long to wait out: shown at once
  assert.equal(globalThis.fetch.mock.callCount(), 1);
  assert.deepEqual(waits, [0]);
});
