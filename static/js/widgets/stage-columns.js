// @ts-check
// The stages side by side: one column per loaded stage with its answer, its reward, what it
// read at the columns' step (shaded by role), its next-token probabilities, its attention at
// that step, and the chosen layer and head over the whole request and answer. Every token goes
// in as textContent, or escaped into Plotly by heatmap.js.
import { findMap, headFigure, layersOf } from "../heatmap.js";
import { columnStep, focusOf, lastStep, rewardModel } from "../stages.js";
import { attentionRowBars, candidateBars, prefixTokens, stepRow } from "../steps.js";
import { format } from "../text.js";
import { drawBars } from "./bars.js";
import { byId } from "./dom.js";
import { clear, draw, labelRoom } from "./plots.js";

/** @typedef {import("../views/view.js").App} App */
/** @typedef {import("../stages.js").Column} Column */
/** @typedef {import("../stages.js").Stage} Stage */
/** @typedef {import("../views/stages.js").ColumnState} ColumnState */
/** @typedef {import("../types.js").GenerateResponse} GenerateResponse */

/** The parts of a column, each named by its id's prefix (`stage-answer-sft`, ...). */
const PARTS = ["status", "answer", "notes", "reward", "open", "prefix", "candidates",
  "attention-title", "attention", "plot"];

/** What each column's heatmap was last drawn from, so a step change does not redraw it. */
const drawn = new Map();

/** A column's part. @param {string} name @param {string} stage @returns {HTMLElement} */
const part = (name, stage) => byId(`stage-${name}-${stage}`);

/**
 * Lay out one empty column per loaded stage (once: the stages loaded do not change).
 * @param {App} app @param {Column[]} columns @param {(stage: Stage) => void} open
 */
export function buildColumns(app, columns, open) {
  const box = byId("stage-columns");
  if (box.dataset.stages === columns.map((c) => c.stage).join(" ")) return;
  box.dataset.stages = columns.map((c) => c.stage).join(" ");
  const words = app.page.text.views.stages;
  box.replaceChildren(...columns.map(({ stage, model }) => {
    const column = document.createElement("article");
    column.className = "stage-column";
    column.dataset.stage = stage;
    column.setAttribute("aria-labelledby", `stage-title-${stage}`);
    const title = element("h3", "", words.stage_names[stage] ?? stage);
    title.id = `stage-title-${stage}`;
    const parent = app.page.models.find((m) => m.name === model)?.trained_from;
    const named = parent ? format(words.model_from, { model, parent }) : format(words.model, { model });
    title.append(" ", element("span", "stage-model", named));
    const status = element("p", "stage-status");
    status.setAttribute("role", "status");
    const answer = element("p", "stage-answer");
    const reward = element("p", "stage-reward");
    const button = element("button", "stage-open", words.open);
    button.setAttribute("type", "button");
    button.addEventListener("click", () => open(stage));
    const plot = element("div", "plot plot-medium stage-plot");
    plot.setAttribute("role", "img");
    plot.setAttribute("aria-label", format(words.plot_label, { stage }));
    /** @type {Record<string, HTMLElement>} */
    const parts = {
      status, answer, notes: element("p", "notes"), reward, open: button,
      prefix: element("p", "prefix stage-prefix"), candidates: element("div", "bars"),
      "attention-title": element("h4", ""), attention: element("div", "bars stage-attention"),
      plot,
    };
    // The attention bars scroll in their own box: reachable and named for the keyboard.
    parts.attention.tabIndex = 0;
    parts.attention.setAttribute("role", "group");
    parts.attention.setAttribute("aria-label", format(words.attention_label, { stage }));
    for (const name of PARTS) parts[name].id = `stage-${name}-${stage}`;
    column.append(title, status, labelled(words.answer_label, answer), parts.notes,
      labelled(words.reward_label, reward), button,
      element("h4", "", words.read_title), parts.prefix,
      element("h4", "", words.candidates_title), parts.candidates,
      parts["attention-title"], parts.attention, plot);
    return column;
  }));
  drawn.clear();
}

/**
 * An element with a class and its text (as textContent).
 * @param {string} tag @param {string} className @param {string} [text]
 */
function element(tag, className, text = "") {
  const made = document.createElement(tag);
  if (className) made.className = className;
  made.textContent = text;
  return made;
}

/** A small label above a value. @param {string} text @param {HTMLElement} value */
function labelled(text, value) {
  const box = element("div", "stage-field");
  box.append(element("span", "label", text), value);
  return box;
}

/**
 * The instruction's input line is only for instructions; the label says what is typed.
 * @param {App} app
 */
export function renderForm(app) {
  const pattern = byId("kind").value === "pattern";
  byId("sentence-label").hidden = pattern;
  byId("sentence").disabled = pattern;
  for (const span of document.querySelectorAll("[data-kind]")) {
    /** @type {HTMLElement} */ (span).hidden = span.getAttribute("data-kind") !== byId("kind").value;
  }
  byId("stages-reward-note").hidden = !pattern || !rewardModel(app.page.models);
}

/** Redraw every column from the state. @param {App} app */
export function renderColumns(app) {
  const { state, page } = app;
  const columns = state.stages?.columns ?? [];
  const last = lastStep(columns.map((c) => c.response));
  state.column_step = Math.min(Math.max(0, state.column_step), last);
  byId("stage-step").max = String(last);
  byId("stage-step").value = String(state.column_step);
  byId("stage-step-label").textContent = format(page.text.common.step_label,
    { step: state.column_step, last });
  // Tests wait on this: every stage has answered (or said why not) and been scored.
  byId("stage-columns").dataset.state = columns.length > 0 &&
    columns.every((c) => !c.busy && !c.reward_busy) ? "ready" : "loading";
  const focus = focusOf(state, page.models);
  for (const box of document.querySelectorAll(".stage-column")) {
    const stage = /** @type {Stage} */ (/** @type {HTMLElement} */ (box).dataset.stage);
    renderColumn(app, stage, columns.find((c) => c.stage === stage) ?? null, stage === focus);
  }
}

/**
 * @param {App} app @param {Stage} stage @param {ColumnState | null} column
 * @param {boolean} opened whether the shared panels show this stage's answer
 */
function renderColumn(app, stage, column, opened) {
  const words = app.page.text.views.stages;
  const response = column?.response ?? null;
  part("status", stage).textContent = column?.busy ? words.generating
    : column?.note ? format(words.failed, { error: column.note }) : "";
  part("status", stage).classList.toggle("error", Boolean(column?.note));
  part("status", stage).classList.toggle("busy", Boolean(column?.busy));
  const answer = part("answer", stage);
  const blank = response !== null && !response.translation.trim();
  answer.textContent = response === null ? "" : blank ? words.empty_answer : response.translation;
  answer.classList.toggle("empty", blank);
  part("notes", stage).textContent = (response?.notes ?? [])
    .map((note) => format(app.page.text.common.note, { note })).join("\n");
  renderReward(app, stage, column);
  const button = /** @type {HTMLButtonElement} */ (part("open", stage));
  button.disabled = response === null;
  button.setAttribute("aria-pressed", String(opened && response !== null));
  button.textContent = opened ? words.opened : words.open;
  renderSteps(app, stage, response);
}

/** @param {App} app @param {Stage} stage @param {ColumnState | null} column */
function renderReward(app, stage, column) {
  const words = app.page.text.views.stages;
  const reward = part("reward", stage);
  reward.classList.toggle("error", Boolean(column?.reward_note));
  reward.classList.toggle("busy", Boolean(column?.reward_busy));
  delete reward.dataset.reward;
  if (!rewardModel(app.page.models)) {
    reward.textContent = words.no_reward;
  } else if (column?.reward_busy) {
    reward.textContent = words.scoring;
  } else if (column?.reward) {
    reward.textContent = column.reward.reward.toFixed(3);
    reward.dataset.reward = String(column.reward.reward);
  } else {
    reward.textContent = column?.reward_note
      ? format(words.reward_failed, { error: column.reward_note }) : "";
  }
}

/**
 * What the stage read at the columns' step (role-shaded), its candidates, its attention there,
 * and the chosen layer and head over everything.
 * @param {App} app @param {Stage} stage @param {GenerateResponse | null} response
 */
function renderSteps(app, stage, response) {
  const { state } = app;
  const words = app.page.text.views.stages;
  const layers = response ? layersOf(response, "decoder.self") : [];
  const layer = layers.includes(state.layer) ? state.layer : layers[layers.length - 1];
  const map = response && layer !== undefined ? findMap(response, "decoder.self", layer) : undefined;
  if (!response || !map || response.steps.length === 0) {
    for (const name of ["prefix", "candidates", "attention"]) part(name, stage).replaceChildren();
    part("attention-title", stage).textContent = "";
    if (drawn.get(stage) !== null) clear(part("plot", stage));
    drawn.set(stage, null);
    return;
  }
  const step = columnStep(state.column_step, response);
  const head = state.head === "mean" || state.head < map.weights.length ? state.head : "mean";
  part("prefix", stage).replaceChildren(...prefixTokens(response, step).map(({ text, role }) => {
    const chip = element("span", `tok ${role}`, text);
    if (role === "current") chip.setAttribute("aria-current", "step");
    return chip;
  }));
  drawBars(part("candidates", stage), candidateBars(response.steps[step]));
  const headName = head === "mean" ? app.page.text.common.mean_of_heads
    : format(app.page.text.common.head, { head });
  part("attention-title", stage).textContent = format(words.attention_title,
    { layer, head: headName, step });
  drawBars(part("attention", stage),
    attentionRowBars(map, head, stepRow(response, step), response.roles));
  const plot = part("plot", stage);
  const key = `${layer}/${head}/${plot.clientWidth}`;
  const last = drawn.get(stage);
  if (last && last.response === response && last.key === key) return;
  drawn.set(stage, { response, key });
  const figure = headFigure(map, head, app.page.text.common.plot, labelRoom(plot));
  figure.layout.margin = { l: 60, r: 5, t: 40, b: 60 };
  figure.data[0].colorbar.thickness = 10;
  draw(plot, figure);
}
