// @ts-check
// The "From GPT to ChatGPT" view: one request, typed once, put through every stage of training
// that is loaded (base, sft, rlhf), each answer scored by the reward model. The request of the
// stage opened in the shared panels (`focus`) is the page's own; the other stages' answers and
// every reward are fetched once it has come.
import { postJson } from "../api.js";
import { findMap } from "../heatmap.js";
import {
  focusOf, KINDS, missingStages, rewardModel, rewardRequest, STAGES, stageColumns,
  stageRequest,
} from "../stages.js";
import { attentionRowBars } from "../steps.js";
import { format } from "../text.js";
import { drawBars } from "../widgets/bars.js";
import { byId, markRendered } from "../widgets/dom.js";
import { buildColumns, renderColumns, renderForm } from "../widgets/stage-columns.js";

/** @typedef {import("./view.js").App} App */
/** @typedef {import("../types.js").GenerateResponse} GenerateResponse */
/** @typedef {import("../stages.js").Stage} Stage */
/**
 * One column on screen: its stage's answer (or why there is none) and that answer's reward.
 * @typedef {{stage: Stage, model: string, response: GenerateResponse | null, note: string,
 *            busy: boolean, reward: import("../types.js").RewardResponse | null,
 *            reward_note: string, reward_busy: boolean}} ColumnState
 */
/** What the columns show: the request `id` they answer, and each stage's column.
 * @typedef {{id: number, columns: ColumnState[]}} Stages */

/** @param {any} response @returns {GenerateResponse | null} the response, when it is a GPT's */
function asGpt(response) {
  return response && "roles" in response ? response : null;
}

/** @type {import("./view.js").View} */
export const stages = {
  name: "stages",
  input: "instruction",
  // `sentence`: the instruction's input line; `focus`: the stage opened in the panels below;
  // `column_step`: the step the columns show.
  keys: () => ({ instruction: "", sentence: "", kind: "instruction", focus: "base",
    column_step: 0 }),
  valid: {
    kind: (value) => KINDS.includes(value),
    focus: (value) => STAGES.includes(value),
    column_step: (value) => Number.isInteger(value) && value >= 0,
  },
  unused: (state) => (state.kind === "pattern" ? ["sentence"] : []),
  live: ["focus", "column_step"],
  sites: ["decoder.self"],  // every stage is a GPT: no encoder, no cross-attention
  available: (page) => stageColumns(page.models).length > 0,

  request: (state, page) => stageRequest(state, page, focusOf(state, page.models) ?? "base"),

  examples: (_state, page) => page.text.views.stages.examples,

  /** An empty request becomes the default example; the columns are laid out once. */
  enter(app) {
    const { state, page } = app;
    if (!state.instruction.trim()) {
      const examples = page.text.views.stages.examples;
      const example = examples.find((e) => e.default) ?? examples[0];
      Object.assign(state, { instruction: example.value, sentence: "", ...example.settings });
    }
    for (const key of ["instruction", "sentence", "kind"]) byId(key).value = state[key];
    state.focus = focusOf(state, page.models);
    state.stages = null;  // the answers it had belonged to another request
    bind(app);
    buildColumns(app, stageColumns(page.models), (stage) => openStage(app, stage));
    renderMissing(app);
    renderForm(app);
  },

  /** The opened stage has answered: ask the others, and score every answer. */
  answered(app, id) {
    const { state, page } = app;
    const focus = focusOf(state, page.models);
    state.column_step = 0;
    state.stages = /** @type {Stages} */ ({
      id,
      columns: stageColumns(page.models).map(({ stage, model }) => ({
        stage, model, response: null, note: "", busy: true, reward: null, reward_note: "",
        reward_busy: false,
      })),
    });
    for (const column of state.stages.columns) {
      if (column.stage === focus) {
        column.response = asGpt(state.response);
        column.busy = false;
        score(app, id, column);
      } else {
        answer(app, id, column);
      }
    }
    renderColumns(app);
  },

  render(app) {
    renderForm(app);
    const focus = focusOf(app.state, app.page.models) ?? "";
    byId("output-label").textContent = format(app.page.text.views.stages.output_of,
      { stage: app.page.text.views.stages.stage_names[focus] ?? focus });
    renderColumns(app);
  },

  /** The opened stage's self-attention over its request and its answer so far, by role. */
  stepBars(app, response, row, layer) {
    const self = findMap(response, "decoder.self", layer);
    const answer = asGpt(response);
    if (self && answer) {
      drawBars(byId("self-plot"), attentionRowBars(self, app.state.head, row, answer.roles));
    }
  },
};

/**
 * Ask one stage for its answer to the request on screen; an answer to an older request is
 * dropped.
 * @param {App} app @param {number} id @param {ColumnState} column
 */
async function answer(app, id, column) {
  const { state, page } = app;
  const { path, body } = stageRequest({ ...state, ...state.shown }, page, column.stage);
  try {
    column.response = asGpt(await postJson(path, body, page.text.common));
  } catch (err) {
    column.note = err instanceof Error ? err.message : String(err);
  }
  if (id !== state.requests) return;
  column.busy = false;
  renderColumns(app);
  markRendered();
  score(app, id, column);
}

/**
 * Ask the reward model for the reward of a column's answer, when there is a reward model and
 * an answer.
 * @param {App} app @param {number} id @param {ColumnState} column
 */
async function score(app, id, column) {
  const { state, page } = app;
  const model = rewardModel(page.models);
  if (!model || !column.response) return;
  column.reward_busy = true;
  const { path, body } = rewardRequest({ ...state, ...state.shown }, column.response.translation,
    model);
  try {
    column.reward = /** @type {any} */ (await postJson(path, body, page.text.common));
  } catch (err) {
    column.reward_note = err instanceof Error ? err.message : String(err);
  }
  if (id !== state.requests) return;
  column.reward_busy = false;
  renderColumns(app);
  markRendered();
}

/**
 * Open a stage's answer in the shared panels (head view, model view, step view) without asking
 * again: the state's `focus` says which, and the URL follows.
 * @param {App} app @param {Stage} stage
 */
function openStage(app, stage) {
  const { state } = app;
  const column = state.stages?.columns.find((c) => c.stage === stage);
  if (!column?.response) return;
  state.focus = stage;
  state.response = column.response;
  app.render();
}

/** Say which stages this server has not loaded; the others are shown all the same. @param {App} app */
function renderMissing(app) {
  const words = app.page.text.views.stages;
  const missing = missingStages(app.page.models);
  const names = missing.map((stage) => words.stage_names[stage] ?? stage).join(", ");
  byId("stages-missing").textContent = missing.length
    ? format(words.missing, { stages: names }) : "";
  byId("stages-missing").hidden = missing.length === 0;
}

/** The view's own listeners, once. @type {boolean} */
let bound = false;

/** @param {App} app */
function bind(app) {
  if (bound) return;
  bound = true;
  byId("instruction").addEventListener("keydown", (/** @type {KeyboardEvent} */ event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      app.submit();
    }
  });
  byId("kind").addEventListener("change", () => renderForm(app));
  // Dragging redraws the columns; letting go redraws the page, whose link keeps the step.
  byId("stage-step").addEventListener("input", () => {
    app.state.column_step = Number(byId("stage-step").value);
    renderColumns(app);
  });
  byId("stage-step").addEventListener("change", () => app.render());
}
