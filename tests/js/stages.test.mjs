// The "From GPT to ChatGPT" view's pure part: its columns, each stage's request and the reward
// request, and its URL keys (node --test).
import assert from "node:assert/strict";
import { test } from "node:test";

import { gptModel } from "../../static/js/models.js";
import {
  columnStep, focusOf, lastStep, missingStages, rewardModel, rewardRequest, stageColumns,
  stageRequest,
} from "../../static/js/stages.js";
import { fromQuery, requestOf, schemaOf, toQuery, urlState } from "../../static/js/state.js";
import { prefixTokens } from "../../static/js/steps.js";
import { gpt } from "../../static/js/views/gpt.js";
import { requestFor, VIEWS } from "../../static/js/views/index.js";
import { stages } from "../../static/js/views/stages.js";

const DECODING = { strategy: "greedy", max_new_tokens: 64, beam_size: 4, temperature: 1,
  top_k: 0, top_p: 1, seed: 0, top_n: 5 };
const gptInfo = (name, stage) => ({ name, architecture: "decoder-only", stage,
  source_language: null, target_language: "en" });
// Loaded in an order unlike training's, with a translator and a second base GPT.
const MODELS = [
  { name: "zh-en", architecture: "encoder-decoder", stage: "base", source_language: "zh",
    target_language: "en" },
  gptInfo("rlhf", "rlhf"), gptInfo("reward", "reward"), gptInfo("sft", "sft"),
  gptInfo("gpt", "base"), gptInfo("gpt-icl", "base"),
];
const PAGE = { decoding_defaults: DECODING, seed_text: "seed", models: MODELS, scripts: {} };
const SCHEMA = schemaOf(VIEWS, PAGE);
const STATE = { ...SCHEMA.defaults, mode: "stages", view: "decoder.self",
  instruction: "把这句话翻译成英文。", sentence: " 我有一只猫。 " };

test("the columns are the GPT stages in training order; the reward model is none of them", () => {
  assert.deepEqual(stageColumns(MODELS), [
    { stage: "base", model: "gpt" }, { stage: "sft", model: "sft" }, { stage: "rlhf", model: "rlhf" }]);
  assert.equal(rewardModel(MODELS), "reward");
  assert.deepEqual(missingStages(MODELS), []);
  const onlyBase = MODELS.filter((m) => m.name === "gpt" || m.name === "zh-en");
  assert.deepEqual(stageColumns(onlyBase), [{ stage: "base", model: "gpt" }]);
  assert.deepEqual(missingStages(onlyBase), ["sft", "reward", "rlhf"]);
  assert.equal(rewardModel(onlyBase), null);
  assert.deepEqual(stageColumns([MODELS[0]]), []);  // a translator is no stage
  assert.equal(stages.available({ ...PAGE, models: [MODELS[0]] }), false);
  assert.equal(stages.available({ ...PAGE, models: [gptInfo("sft", "sft")] }), true);
  // A server that names no stage: its GPT is the base.
  const { stage: _, ...unnamed } = gptInfo("old", "base");
  assert.deepEqual(stageColumns([unnamed]), [{ stage: "base", model: "old" }]);
});

test("the GPT view's model is the base GPT, never a stage trained from it", () => {
  assert.equal(gptModel(MODELS), "gpt");
  assert.equal(gpt.request({ ...SCHEMA.defaults, mode: "gpt", prompt: "猫 =>" }, PAGE).body.model,
    "gpt");
  assert.equal(gptModel(MODELS.filter((m) => m.stage !== "base")), null);
  const { stage: _, ...unnamed } = gptInfo("old", "base");
  assert.equal(gptModel([gptInfo("sft", "sft"), unnamed]), "old");
});

test("an instruction goes to sft and rlhf with its input line, to base as two lines", () => {
  const base = stageRequest(STATE, PAGE, "base");
  assert.equal(base.path, "/api/generate");
  assert.deepEqual(base.body, { prompt: "把这句话翻译成英文。\n我有一只猫。", model: "gpt",
    stop_at_line_end: false, strategy: "greedy", beam_size: 4, temperature: 1, top_k: 0,
    top_p: 1, max_new_tokens: 64, seed: 0 });
  for (const stage of ["sft", "rlhf"]) {
    const { body } = stageRequest({ ...STATE, top_k: 7 }, PAGE, stage);
    assert.deepEqual([body.prompt, body.input, body.model, body.template, body.top_k],
      ["把这句话翻译成英文。", "我有一只猫。", stage, undefined, 7]);
    assert.equal(stageRequest(STATE, PAGE, stage).body.stop_at_line_end, true);
  }
  // Without an input sentence there is no input line, and base reads the instruction alone.
  const bare = { ...STATE, sentence: "  " };
  assert.equal("input" in stageRequest(bare, PAGE, "sft").body, false);
  assert.equal(stageRequest(bare, PAGE, "base").body.prompt, "把这句话翻译成英文。");
});

test("a pattern is read as it is by every stage, the sentence left out", () => {
  const pattern = { ...STATE, kind: "pattern", instruction: "我 => I\n猫 =>" };
  for (const stage of ["base", "sft", "rlhf"]) {
    const { body } = stageRequest(pattern, PAGE, stage);
    assert.equal(body.prompt, "我 => I\n猫 =>");
    assert.equal("input" in body, false);
    assert.equal(body.template, stage === "base" ? undefined : false, stage);  // base has none
    assert.equal(body.stop_at_line_end, true);  // the pattern's answer is one line
  }
});

test("every answer is scored as an answer to the same request", () => {
  assert.deepEqual(rewardRequest(STATE, "I have a cat.", "reward"), {
    path: "/api/reward",
    body: { model: "reward", prompt: "把这句话翻译成英文。", input: "我有一只猫。", answer: "I have a cat." },
  });
  const pattern = { ...STATE, kind: "pattern", instruction: "我 => I\n猫 =>" };
  assert.deepEqual(rewardRequest(pattern, "", "reward").body,
    { model: "reward", prompt: "我 => I\n猫 =>", answer: "" });
});

test("the opened stage's request is the view's, and the panels ask it again", () => {
  assert.equal(focusOf(STATE, MODELS), "base");
  assert.equal(focusOf({ ...STATE, focus: "rlhf" }, MODELS), "rlhf");
  const onlySft = [gptInfo("sft", "sft")];
  assert.equal(focusOf(STATE, onlySft), "sft");  // base is not loaded: the first column
  assert.equal(stages.request({ ...STATE, focus: "sft" }, PAGE).body.model, "sft");
  assert.equal(stages.request(STATE, { ...PAGE, models: onlySft }).body.model, "sft");
  // The answer on screen was asked with the focus as it is now (a live key), not as it was sent.
  const shown = requestOf(STATE, SCHEMA);
  assert.equal("focus" in shown, false);
  assert.equal(requestFor({ ...STATE, focus: "rlhf", shown, sentence: "unsent" }, PAGE).body.input,
    "我有一只猫。");
  assert.equal(requestFor({ ...STATE, focus: "rlhf", shown }, PAGE).body.model, "rlhf");
});

test("the view's keys round-trip through the URL; live keys follow the screen", () => {
  const state = { ...STATE, kind: "instruction", focus: "sft", column_step: 3, layer: 1 };
  assert.deepEqual(fromQuery(`?${toQuery(state, SCHEMA)}`, SCHEMA), state);
  const query = new URLSearchParams(toQuery(state, SCHEMA));
  assert.deepEqual([...query.keys()],
    ["mode", "instruction", "sentence", "focus", "column_step", "layer"]);
  // A pattern has no input line: the sentence stays out of its link.
  const pattern = new URLSearchParams(toQuery({ ...state, kind: "pattern" }, SCHEMA));
  assert.equal(pattern.get("kind"), "pattern");
  assert.equal(pattern.has("sentence"), false);
  // What the link shares: the request sent, with the focus and step on screen now.
  const sent = requestOf({ ...state, focus: "base", column_step: 0 }, SCHEMA);
  const live = new URLSearchParams(toQuery(urlState({ ...state, instruction: "unsent" }, sent),
    SCHEMA));
  assert.deepEqual([live.get("instruction"), live.get("focus"), live.get("column_step")],
    [STATE.instruction, "sft", "3"]);
  // Values the view does not know fall back to its defaults.
  const odd = fromQuery("?mode=stages&kind=chat&focus=reward&column_step=-2", SCHEMA);
  assert.deepEqual([odd.kind, odd.focus, odd.column_step], ["instruction", "base", 0]);
  // Other views' links carry none of these keys.
  const asGpt = new URLSearchParams(toQuery({ ...state, mode: "gpt", prompt: "猫 =>" }, SCHEMA));
  assert.equal(["instruction", "sentence", "kind", "focus"].some((key) => asGpt.has(key)), false);
});

test("each column shows its own last step when its answer is shorter", () => {
  const answer = (n) => ({ steps: Array.from({ length: n }, (_, index) => ({ index })) });
  assert.equal(lastStep([answer(3), null, answer(6)]), 5);
  assert.equal(lastStep([]), 0);
  assert.equal(columnStep(4, answer(3)), 2);
  assert.equal(columnStep(1, answer(3)), 1);
});

test("a chat template's instruction and input are shaded as such", () => {
  const response = {
    prompt_tokens: ["指令：", "重复", "\n", "输入：", "猫", "\n", "回答："],
    roles: ["start", "instruction", "instruction", "instruction", "input", "input", "input",
      "answer", "answer"],
    target_tokens: ["猫", "</s>"],
  };
  assert.deepEqual(prefixTokens(response, 1).map((t) => t.role), ["special", "instruction",
    "instruction", "instruction", "input", "input", "input", "done", "done", "current"]);
});
