// @ts-check
// The GPT view: the Transformer's decoder alone continues a prompt of `中文 => English` lines.
// Beside its attention: the same sentence in the encoder-decoder, and what each head does.
import { headScores, postJson } from "../api.js";
import { copyAt } from "../copying.js";
import { findMap } from "../heatmap.js";
import { gptModel, languageOf, translatorFrom } from "../models.js";
import { decodingOf } from "../state.js";
import { attentionRowBars, demonstrationShares } from "../steps.js";
import { format } from "../text.js";
import { drawBars } from "../widgets/bars.js";
import { drawComparison } from "../widgets/compare.js";
import { renderCopyNote } from "../widgets/copy-note.js";
import { byId, markRendered } from "../widgets/dom.js";
import { bindLearn, forgetLearningUnless } from "../widgets/learn.js";
import { scoreTables } from "../widgets/score-table.js";
import { translate } from "./translate.js";

/** @typedef {import("./view.js").App} App */
/** @typedef {import("../types.js").GenerateResponse} GenerateResponse */
/** @typedef {import("../types.js").AttentionMap} AttentionMap */

/** The sentence a GPT prompt asks about: its last line, before the arrow. @param {string} prompt */
export function queryOf(prompt) {
  const lines = prompt.trim().split("\n");
  return (lines[lines.length - 1] ?? "").split("=>")[0].trim();
}

/** The demonstrations a prompt can be given: none (the prompt as typed), or the server's pick. */
export const DEMO_KINDS = ["none", "random", "similar"];
/** How many demonstrations the server may add (the request schema's range). */
export const MAX_SHOTS = 5;

/**
 * The request's `demonstrations`, or null when the prompt is sent as typed.
 * @param {Record<string, any>} state
 * @returns {import("../types.js").Demonstrations | null}
 */
export function demonstrationsOf(state) {
  return state.demos === "none" ? null : { kind: state.demos, count: state.shots };
}

/** @param {any} response @returns {GenerateResponse | null} the response, when it is a GPT's */
function asGpt(response) {
  return response && "roles" in response ? response : null;
}

/** @type {import("./view.js").View} */
export const gpt = {
  name: "gpt",
  input: "prompt",
  // The answer ends with its line; demonstrations (`demos`, `shots` of them) only when chosen.
  keys: () => ({ prompt: "", stop_at_line_end: true, demos: "none", shots: 3 }),
  valid: {
    demos: (value) => DEMO_KINDS.includes(value),
    shots: (value) => Number.isInteger(value) && value >= 1 && value <= MAX_SHOTS,
  },
  unused: (state) => (state.demos === "none" ? ["shots"] : []),
  sites: ["decoder.self"],  // a GPT has no encoder and no cross-attention
  available: (page) => gptModel(page.models) !== null,

  request: (state, page) => {
    const demonstrations = demonstrationsOf(state);
    return {
      path: "/api/generate",
      body: {
        prompt: state.prompt,
        model: gptModel(page.models),
        stop_at_line_end: state.stop_at_line_end,
        ...(demonstrations ? { demonstrations } : {}),
        ...decodingOf(state),
      },
    };
  },

  examples: (_state, page) => page.text.views.gpt.examples,

  /** An empty prompt becomes the few-shot example; the head scores load once. */
  enter(app) {
    if (!app.state.prompt.trim()) {
      const examples = app.page.text.views.gpt.examples;
      app.state.prompt = (examples.find((e) => e.default) ?? examples[0]).value;
    }
    byId("prompt").value = app.state.prompt;
    renderReadPrompt(app.state, null);  // the answer it belonged to is gone
    loadScores(app);
    bindLearn(app);
  },

  answered(app, id) {
    forgetLearningUnless(app.state.prompt, id);  // its answers may be for another prompt
    loadComparison(app, id);
  },

  render(app, response) {
    renderReadPrompt(app.state, asGpt(response));
    renderComparison(app);
    renderScores(app);
  },

  /** Self-attention over the prompt and the answer so far, shaded by role, and head shares. */
  stepBars(app, response, row, layer) {
    const self = findMap(response, "decoder.self", layer);
    const answer = asGpt(response);
    if (!self || !answer) return;
    drawBars(byId("self-plot"), attentionRowBars(self, app.state.head, row, answer.roles));
    renderShares(app, answer, self, row);
    const step = app.state.step;
    renderCopyNote(byId("copy-note"), copyAt(answer, step), answer.target_tokens[step] ?? "",
      answer.roles.includes("demonstration"), app.page.text.views.gpt.copy,
      (layer, head) => openHead(app, layer, head));
  },
};

/** Open a GPT head in the head view. @param {App} app @param {number} layer @param {number} head */
function openHead(app, layer, head) {
  app.state.view = "decoder.self";
  app.state.layer = layer;
  app.state.head = head;
  app.render();
  byId("head-plot").scrollIntoView({ behavior: "smooth", block: "center" });
}

/**
 * The prompt the model read, when the server added demonstrations to the one on screen (as
 * text, line breaks kept); the count only matters when some are chosen.
 * @param {Record<string, any>} state @param {GenerateResponse | null} response
 */
function renderReadPrompt(state, response) {
  byId("shots").disabled = byId("demos").value === "none";
  const added = response !== null && state.shown !== null && demonstrationsOf(state.shown) !== null;
  byId("read-prompt-block").hidden = !added;
  byId("read-prompt").textContent = added ? response.prompt : "";
}

/**
 * Each head's share of attention on the demonstrations: at this step, and (from the API) the
 * mean over the whole answer.
 * @param {App} app @param {GenerateResponse} response @param {AttentionMap} map @param {number} row
 */
function renderShares(app, response, map, row) {
  const words = app.page.text.views.gpt;
  if (!response.roles.includes("demonstration")) {
    const note = document.createElement("p");
    note.className = "explain";  // one sentence, not a bar: outside the bar columns
    note.textContent = words.no_demonstrations;
    byId("share-plot").replaceChildren(note);
    return;
  }
  const now = demonstrationShares(map, response.roles, row);
  const mean = response.demonstration_share[map.name] ?? [];
  drawBars(byId("share-plot"), {
    items: now.map((value, head) => ({
      label: format(words.share_label, { head, mean: (mean[head] ?? 0).toFixed(2) }),
      value,
      role: "demonstration",
    })),
    highlight: app.state.head === "mean" ? -1 : app.state.head,
  });
}

/**
 * Translate the prompt's query sentence with the encoder-decoder that reads its language, for
 * the side-by-side view. An answer to an older request than `id` is dropped.
 * @param {App} app @param {number} id the request it belongs to
 */
async function loadComparison(app, id) {
  const { state, page } = app;
  const words = page.text.views.gpt;
  const sentence = queryOf(state.prompt);
  const language = languageOf(sentence, page.scripts);
  const model = translatorFrom(page.models, language)?.name;
  state.compare = { response: null, note: "" };
  if (!sentence) {
    state.compare.note = words.compare_no_sentence;
  } else if (!model) {
    state.compare.note = format(words.compare_no_model, { language: language ?? "" });
  } else {
    state.compare.note = format(words.compare_running, { sentence, model });
    renderComparison(app);
    const { path, body } = translate.request({ ...state, text: sentence, model }, page);
    try {
      const response = await postJson(path, body, page.text.common);
      if (id !== state.requests) return;
      state.compare = { response, note: format(words.compare_done, { sentence }) };
    } catch (err) {
      if (id !== state.requests) return;
      state.compare.note = format(words.compare_failed,
        { error: err instanceof Error ? err.message : String(err) });
    }
  }
  renderComparison(app);
}

/** @param {App} app */
function renderComparison(app) {
  const { state } = app;
  byId("compare-status").textContent = state.compare.note;
  drawComparison(asGpt(state.response), state.compare.response, state.layer, state.head,
    app.page.text.common.plot);
  markRendered();
}

/** Fetch the GPT's head scores, once. @param {App} app */
async function loadScores(app) {
  const model = gptModel(app.page.models);
  if (!model || app.state.scores) return;
  try {
    app.state.scores = await headScores(model);
  } catch {
    byId("scores-tables").textContent = app.page.text.views.gpt.scores_failed;
    return;
  }
  renderScores(app);
}

/** The score tables; a cell opens its head in the head view. @param {App} app */
function renderScores(app) {
  const { state } = app;
  if (!state.scores) return;
  const words = { ...app.page.text.common, ...app.page.text.views.gpt };
  byId("scores-tables").replaceChildren(...scoreTables(state.scores, words.score_kinds, words,
    (layer, head) => openHead(app, layer, head)));
}
