// @ts-check
// The page's state and its mirror in the URL query string, so any view can be shared.

/** @typedef {import("./types.js").ModelInfo} ModelInfo */

export const DEFAULTS = Object.freeze({
  mode: /** @type {"translate" | "gpt"} */ ("translate"),
  text: "",
  prompt: "",
  model: "auto",
  strategy: "greedy",
  beam_size: 4,
  temperature: 1,
  top_k: 0,
  top_p: 1,
  max_new_tokens: 64,
  seed: 0,
  stop_at_line_end: true,  // GPT: the answer ends with its line
  view: "decoder.cross",
  layer: 0,
  head: /** @type {number | "mean"} */ ("mean"),
  step: 0,
});

/** Fields sent to the API (the rest is view state). */
export const DECODING_KEYS = ["strategy", "beam_size", "temperature", "top_k", "top_p",
  "max_new_tokens", "seed"];
/** Everything that decides which answer the server gives. */
const REQUEST_KEYS = ["mode", "text", "prompt", "model", "stop_at_line_end", ...DECODING_KEYS];
const NUMBER_KEYS = ["beam_size", "temperature", "top_k", "top_p", "max_new_tokens", "seed",
  "layer", "step"];
const VIEWS = ["encoder.self", "decoder.self", "decoder.cross"];
const MODES = ["translate", "gpt"];

/** State from a query string; unknown or malformed values fall back to defaults. */
export function fromQuery(search, seedText) {
  const params = new URLSearchParams(search);
  /** @type {Record<string, any>} */
  const state = { ...DEFAULTS, text: seedText };
  for (const [key, fallback] of Object.entries(DEFAULTS)) {
    const raw = params.get(key);
    if (raw === null) continue;
    if (NUMBER_KEYS.includes(key)) {
      const value = Number(raw);
      state[key] = Number.isFinite(value) ? value : fallback;
    } else if (key === "stop_at_line_end") {
      state.stop_at_line_end = raw !== "false";
    } else if (key === "head") {
      state.head = raw === "mean" ? "mean" : Number.isInteger(Number(raw)) ? Number(raw) : "mean";
    } else {
      state[key] = raw;
    }
  }
  if (!MODES.includes(state.mode)) state.mode = DEFAULTS.mode;
  if (!VIEWS.includes(state.view)) state.view = DEFAULTS.view;
  if (state.mode === "gpt") state.view = "decoder.self";  // a GPT has no encoder, no cross
  return state;
}

/**
 * The request fields of a state: kept with a response, as what was asked for it.
 * @param {Record<string, any>} state @returns {Record<string, any>}
 */
export function requestOf(state) {
  return Object.fromEntries(REQUEST_KEYS.map((key) => [key, state[key]]));
}

/**
 * What the URL should say: the request of the result on screen (`shown`, when there is one),
 * with the live view state (view, layer, head, step). A setting changed but not yet sent, or a
 * request that failed, does not change the URL: the link shares what is shown.
 * @param {Record<string, any>} state @param {Record<string, any> | null} shown
 */
export function urlState(state, shown) {
  return shown ? { ...state, ...shown } : state;
}

/** Query string holding the text and every setting that differs from its default. */
export function toQuery(state) {
  const params = new URLSearchParams();
  params.set("text", state.text);
  for (const [key, fallback] of Object.entries(DEFAULTS)) {
    if (key !== "text" && state[key] !== fallback) params.set(key, String(state[key]));
  }
  return params.toString();
}

const HAN = /[\u3400-\u9fff\uf900-\ufaff]/;

/** The model to use: the one chosen, or the direction implied by the script of the text. */
export function modelFor(text, chosen) {
  if (chosen !== "auto") return chosen;
  return HAN.test(text) ? "zh-en" : "en-zh";
}

/** The first GPT (decoder-only) model, if one is loaded. @param {ModelInfo[]} models */
export function gptModel(models) {
  return models.find((m) => m.architecture === "decoder-only")?.name ?? null;
}

/** The models the direction select offers: translation only. @param {ModelInfo[]} models */
export function translationModels(models) {
  return models.filter((m) => m.architecture === "encoder-decoder");
}

/**
 * Where to send the state and with which body: POST /api/translate for a sentence, or
 * POST /api/generate for a GPT prompt.
 * @param {Record<string, any>} state @param {ModelInfo[]} models
 * @returns {{path: string, body: Record<string, any>}}
 */
export function request(state, models) {
  /** @type {Record<string, any>} */
  const body = state.mode === "gpt"
    ? { prompt: state.prompt, model: gptModel(models), stop_at_line_end: state.stop_at_line_end }
    : { text: state.text, model: modelFor(state.text, state.model) };
  for (const key of DECODING_KEYS) body[key] = state[key];
  return { path: state.mode === "gpt" ? "/api/generate" : "/api/translate", body };
}

/** True when the state asks for exactly what the server pre-computed for the first paint. */
export function isSeedRequest(state, seedText) {
  return state.mode === "translate" && state.text === seedText && state.model === "auto" &&
    DECODING_KEYS.every((key) => state[key] === DEFAULTS[key]);
}

/** The sentence a GPT prompt asks about: its last line, before the arrow. @param {string} prompt */
export function queryOf(prompt) {
  const lines = prompt.trim().split("\n");
  return (lines[lines.length - 1] ?? "").split("=>")[0].trim();
}
