// The learning panel's request body and steps range, and the score tables' kinds.
import assert from "node:assert/strict";
import { test } from "node:test";

import { learnBody, rateIsValid, stepsAreValid } from "../../static/js/widgets/learn.js";
import { scoresByKind } from "../../static/js/widgets/score-table.js";

const DECODING = { strategy: "greedy", beam_size: 4, temperature: 1, top_k: 0, top_p: 1,
  max_new_tokens: 64, seed: 0 };
const MODELS = [{ name: "zh-en", architecture: "encoder-decoder" },
  { name: "gpt", architecture: "decoder-only" }];

const LIMITS = { steps: 5, min_steps: 1, max_steps: 20, learning_rate: 1e-3,
  min_learning_rate: 1e-5, max_learning_rate: 1e-2 };

test("learnBody sends the prompt, steps, learning rate, the GPT and the decoding fields only", () => {
  const state = { ...DECODING, prompt: "ignored", stop_at_line_end: true, demos: "similar" };
  assert.deepEqual(
    learnBody("a => b\nc =>", { steps: 3, learning_rate: 2e-3 }, state, { models: MODELS }),
    { prompt: "a => b\nc =>", steps: 3, learning_rate: 2e-3, model: "gpt", ...DECODING });
});

test("steps are whole numbers in the server's range", () => {
  assert.ok(stepsAreValid(1, LIMITS) && stepsAreValid(20, LIMITS));
  for (const bad of [0, 21, 2.5, NaN]) assert.ok(!stepsAreValid(bad, LIMITS), String(bad));
  assert.ok(stepsAreValid(30, { ...LIMITS, max_steps: 30 }));
});

test("learning rates are numbers in the server's range", () => {
  assert.ok(rateIsValid(1e-5, LIMITS) && rateIsValid(1e-2, LIMITS));
  for (const bad of [0, 2e-2, 1e-6, NaN, Infinity]) {
    assert.ok(!rateIsValid(bad, LIMITS), String(bad));
  }
});

test("scoresByKind adds one induction table per language of induction_on_text", () => {
  const site = { "decoder.0.self": [0.1, 0.2] };
  const scores = { model: "gpt", span_length: 8, samples: 2, induction: site,
    previous_token: site, induction_on_text: { zh: site, en: site } };
  assert.deepEqual(Object.keys(scoresByKind(scores)),
    ["induction", "previous_token", "induction_zh", "induction_en"]);
  assert.deepEqual(Object.keys(scoresByKind({ ...scores, induction_on_text: {} })),
    ["induction", "previous_token"]);
});
