// The GPT view's demonstrations choice: its URL keys and the request it makes (node --test).
import assert from "node:assert/strict";
import { test } from "node:test";

import { fromQuery, requestOf, schemaOf, toQuery } from "../../static/js/state.js";
import { demonstrationsOf, gpt } from "../../static/js/views/gpt.js";
import { VIEWS } from "../../static/js/views/index.js";

const DECODING = { strategy: "greedy", max_new_tokens: 64, beam_size: 4, temperature: 1,
  top_k: 0, top_p: 1, seed: 0, top_n: 5 };
const MODELS = [
  { name: "zh-en", architecture: "encoder-decoder", source_language: "zh", target_language: "en" },
  { name: "gpt", architecture: "decoder-only", source_language: null, target_language: "en" },
];
const PAGE = { decoding_defaults: DECODING, seed_text: "seed", models: MODELS, scripts: {} };
const SCHEMA = schemaOf(VIEWS, PAGE);
const GPT_STATE = { ...SCHEMA.defaults, mode: "gpt", view: "decoder.self", prompt: "我有一只狗。" };

test("the demonstrations choice round-trips through the URL", () => {
  for (const [demos, shots] of [["similar", 3], ["random", 5], ["similar", 1], ["none", 3]]) {
    const state = { ...GPT_STATE, demos, shots };
    assert.deepEqual(fromQuery(`?${toQuery(state, SCHEMA)}`, SCHEMA), state);
  }
  const query = new URLSearchParams(toQuery({ ...GPT_STATE, demos: "similar", shots: 4 }, SCHEMA));
  assert.deepEqual([query.get("demos"), query.get("shots")], ["similar", "4"]);
});

test("the defaults, none and 3, are not written", () => {
  assert.deepEqual([SCHEMA.defaults.demos, SCHEMA.defaults.shots], ["none", 3]);
  const query = new URLSearchParams(toQuery(GPT_STATE, SCHEMA));
  assert.equal(query.has("demos"), false);
  assert.equal(query.has("shots"), false);
  const similar = new URLSearchParams(toQuery({ ...GPT_STATE, demos: "similar" }, SCHEMA));
  assert.equal(similar.get("demos"), "similar");
  assert.equal(similar.has("shots"), false);
});

test("the count is left out of the link when no demonstrations are chosen", () => {
  const none = new URLSearchParams(toQuery({ ...GPT_STATE, demos: "none", shots: 5 }, SCHEMA));
  assert.equal(none.has("shots"), false);
  const random = new URLSearchParams(toQuery({ ...GPT_STATE, demos: "random", shots: 5 }, SCHEMA));
  assert.equal(random.get("shots"), "5");
});

test("unknown demonstration kinds and counts out of range fall back to the defaults", () => {
  for (const search of ["demos=all&shots=9", "demos=&shots=0", "demos=SIMILAR&shots=2.5",
    "demos=<b>&shots=abc", "shots=-1"]) {
    const state = fromQuery(`?mode=gpt&${search}`, SCHEMA);
    assert.deepEqual([state.demos, state.shots], ["none", 3], search);
  }
  const ok = fromQuery("?mode=gpt&demos=random&shots=5", SCHEMA);
  assert.deepEqual([ok.demos, ok.shots], ["random", 5]);
  // The translate view has no such keys: they are ignored there.
  const translate = fromQuery("?mode=translate&demos=similar&shots=1", SCHEMA);
  assert.deepEqual([translate.demos, translate.shots], ["none", 3]);
  assert.equal(new URLSearchParams(toQuery({ ...translate, demos: "similar" }, SCHEMA)).has("demos"),
    false);
});

test("the request carries demonstrations only when some are chosen", () => {
  const none = gpt.request(GPT_STATE, PAGE).body;
  assert.equal("demonstrations" in none, false);
  assert.equal(demonstrationsOf(GPT_STATE), null);
  const similar = gpt.request({ ...GPT_STATE, demos: "similar", shots: 2 }, PAGE).body;
  assert.deepEqual(similar.demonstrations, { kind: "similar", count: 2 });
  assert.equal(similar.prompt, "我有一只狗。");  // the server adds them, not the page
  const random = gpt.request({ ...GPT_STATE, demos: "random", shots: 5 }, PAGE).body;
  assert.deepEqual(random.demonstrations, { kind: "random", count: 5 });
  // What was asked for the answer on screen includes the choice, so the link shares it.
  const asked = requestOf({ ...GPT_STATE, demos: "random", shots: 5 }, SCHEMA);
  assert.deepEqual([asked.demos, asked.shots], ["random", 5]);
});
