// @ts-check
// From GPT to ChatGPT, the pure part: which loaded models are the stages view's columns, and
// what each stage and the reward model are asked. No DOM here, so node can test every rule.
import { decodingOf } from "./state.js";

/** @typedef {import("./types.js").ModelInfo} ModelInfo */
/** @typedef {import("./types.js").GenerateResponse} GenerateResponse */
/** @typedef {"base" | "sft" | "rlhf"} Stage */
/** One column: a stage and the model that answers for it. @typedef {{stage: Stage, model: string}} Column */

/** The stages one request goes through, in the order training made them. */
export const STAGES = /** @type {Stage[]} */ (["base", "sft", "rlhf"]);
/** What the reader types: an instruction (read through a chat template), or a pattern. */
export const KINDS = ["instruction", "pattern"];

/** A model's stage; a model from a server that names none is a base model. @param {ModelInfo} m */
const stageOf = (m) => m.stage ?? "base";

/**
 * The columns: for each stage, the first decoder-only model of that stage, in training order. The
 * reward model (stage `reward`) writes no answer: it is no column.
 * @param {ModelInfo[]} models @returns {Column[]}
 */
export function stageColumns(models) {
  return STAGES.flatMap((stage) => {
    const model = models.find((m) => m.architecture === "decoder-only" && stageOf(m) === stage);
    return model ? [{ stage, model: model.name }] : [];
  });
}

/** The first reward model, if one is loaded. @param {ModelInfo[]} models @returns {string | null} */
export function rewardModel(models) {
  return models.find((m) => m.stage === "reward")?.name ?? null;
}

/**
 * The stages (and the reward model) this server has not loaded, in training order.
 * @param {ModelInfo[]} models @returns {string[]}
 */
export function missingStages(models) {
  const loaded = new Set(stageColumns(models).map((column) => column.stage));
  if (rewardModel(models)) loaded.add("reward");
  return ["base", "sft", "reward", "rlhf"].filter((stage) => !loaded.has(stage));
}

/**
 * The stage whose answer the shared panels (head view, model view, step view) open: the one the
 * state names when it is loaded, else the first column's.
 * @param {Record<string, any>} state @param {ModelInfo[]} models @returns {Stage | null}
 */
export function focusOf(state, models) {
  const stages = stageColumns(models).map((column) => column.stage);
  return stages.includes(state.focus) ? state.focus : stages[0] ?? null;
}

/**
 * A stage's /api/generate request. An instruction goes to sft and rlhf as it is, with its input
 * line, and the server lays it out in their chat template; base has no template, so it reads the
 * instruction and then the input as two lines of plain text (what the server would make of an
 * input sent to it). A pattern is read as it is by every stage: `template: false` for the
 * stages that have a template. A pattern's answers end with their line, as the evaluations' do;
 * base given an instruction writes on past its line, so the page shows what it does with an
 * instruction: it continues the text.
 * @param {Record<string, any>} state @param {Pick<import("./views/view.js").PageData, "models">} page
 * @param {Stage} stage @returns {{path: string, body: Record<string, any>}}
 */
export function stageRequest(state, page, stage) {
  const model = stageColumns(page.models).find((column) => column.stage === stage)?.model ?? null;
  const sentence = state.kind === "pattern" ? "" : (state.sentence ?? "").trim();
  /** @type {Record<string, any>} */
  const asked = { prompt: state.instruction, stop_at_line_end: true };
  if (stage === "base") {
    if (sentence) asked.prompt = `${state.instruction.trimEnd()}\n${sentence}`;
    if (state.kind !== "pattern") asked.stop_at_line_end = false;
  } else if (state.kind === "pattern") {
    asked.template = false;
  } else if (sentence) {
    asked.input = sentence;
  }
  return {
    path: "/api/generate",
    body: { ...asked, model, ...decodingOf(state) },
  };
}

/**
 * The /api/reward request that scores one stage's answer: the request as typed (a pattern is
 * read as the instruction), so every stage's answer is scored as an answer to the same request.
 * @param {Record<string, any>} state @param {string} answer @param {string} model a reward model
 * @returns {{path: string, body: Record<string, any>}}
 */
export function rewardRequest(state, answer, model) {
  const sentence = state.kind === "pattern" ? "" : (state.sentence ?? "").trim();
  return {
    path: "/api/reward",
    body: { model, prompt: state.instruction, ...(sentence ? { input: sentence } : {}), answer },
  };
}

/**
 * The step a column shows: the columns' step, or its own last step when its answer is shorter.
 * @param {number} step @param {GenerateResponse} response
 */
export function columnStep(step, response) {
  return Math.max(0, Math.min(step, response.steps.length - 1));
}

/**
 * The columns' last step: that of the longest answer (0 when there is none yet).
 * @param {(GenerateResponse | null)[]} responses
 */
export function lastStep(responses) {
  return Math.max(0, ...responses.map((response) => (response ? response.steps.length - 1 : 0)));
}
