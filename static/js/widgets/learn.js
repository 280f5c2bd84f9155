// @ts-check
// The GPT view's "learning in the prompt, or in the weights" panel: the prompt on screen, sent
// to POST /api/learn with the decoding settings, answered twice side by side, with the losses
// of the copy that learned. Its own request and busy state, apart from the main generation.
import { postJson } from "../api.js";
import { gptModel } from "../models.js";
import { decodingOf } from "../state.js";
import { format } from "../text.js";
import { byId } from "./dom.js";

/** @typedef {import("../views/view.js").App} App */
/** @typedef {import("../types.js").LearnResponse} LearnResponse */

/** @typedef {import("../types.js").LearningLimits} LearningLimits */

/**
 * The body of POST /api/learn: the prompt, the steps and their learning rate, the GPT and the
 * decoding settings.
 * @param {string} prompt @param {{steps: number, learning_rate: number}} training
 * @param {Record<string, any>} state
 * @param {Pick<import("../views/view.js").PageData, "models">} page
 * @returns {Record<string, any>}
 */
export function learnBody(prompt, training, state, page) {
  return { prompt, ...training, model: gptModel(page.models), ...decodingOf(state) };
}

/** Whether the steps field holds an allowed number. @param {number} steps @param {LearningLimits} limits */
export const stepsAreValid = (steps, limits) =>
  Number.isInteger(steps) && steps >= limits.min_steps && steps <= limits.max_steps;

/** Whether the learning-rate field holds an allowed number. @param {number} rate @param {LearningLimits} limits */
export const rateIsValid = (rate, limits) =>
  Number.isFinite(rate) && rate >= limits.min_learning_rate && rate <= limits.max_learning_rate;

let requests = 0;  // only the answer to the latest Compare is shown
// The prompt of the latest Compare, and the last generation asked before it.
let learned = { prompt: "", after: 0 };

/**
 * Hide the answers (or the Compare on its way) when a generation asked after that Compare is
 * for another prompt.
 * @param {string} prompt the generation's @param {number} id its request number
 */
export function forgetLearningUnless(prompt, id) {
  if (id <= learned.after || prompt === learned.prompt) return;
  requests += 1;  // an answer still on its way is for the old prompt
  learned = { prompt: "", after: id };
  setBusy(false);
  byId("learn-results").hidden = true;
  byId("learn-error").hidden = true;
  byId("learn-status").textContent = "";
}

/** Bind the Compare button, once. @param {App} app */
export function bindLearn(app) {
  const button = byId("learn-button");
  if (button.dataset.bound) return;
  button.dataset.bound = "1";
  button.addEventListener("click", () => compareLearning(app));
}

/** @param {App} app */
async function compareLearning(app) {
  const words = app.page.text.views.gpt.learn;
  const limits = app.page.learning;
  const steps = byId("learn-steps").valueAsNumber;
  const rate = byId("learn-rate").valueAsNumber;
  if (!stepsAreValid(steps, limits)) {
    showError(format(words.steps_invalid, { min: limits.min_steps, max: limits.max_steps }));
    return;
  }
  if (!rateIsValid(rate, limits)) {
    showError(format(words.rate_invalid,
      { min: limits.min_learning_rate, max: limits.max_learning_rate }));
    return;
  }
  const id = ++requests;
  const prompt = byId("prompt").value;
  learned = { prompt, after: app.state.requests };
  const body = learnBody(prompt, { steps, learning_rate: rate }, app.state, app.page);
  setBusy(true);
  byId("learn-status").textContent = format(words.running, { steps });
  try {
    const response = /** @type {LearnResponse} */ (/** @type {unknown} */ (
      await postJson("/api/learn", body, app.page.text.common)));
    if (id !== requests) return;
    renderLearning(response, words);
  } catch (err) {
    if (id !== requests) return;
    showError(err instanceof Error ? err.message : String(err));
  } finally {
    if (id === requests) setBusy(false);
  }
}

/** @param {boolean} busy */
function setBusy(busy) {
  byId("learn-panel").classList.toggle("busy", busy);
  byId("learn-button").disabled = busy;
}

/** The server's sentence (or ours), and no answers. @param {string} message */
function showError(message) {
  byId("learn-error").textContent = message;
  byId("learn-error").hidden = false;
  byId("learn-status").textContent = "";
  byId("learn-results").hidden = true;
}

/** @param {LearnResponse} response @param {Record<string, string>} words */
function renderLearning(response, words) {
  byId("learn-error").hidden = true;
  byId("learn-error").textContent = "";
  byId("learn-status").textContent = format(words.done,
    { steps: response.steps, learning_rate: response.learning_rate });
  byId("learn-in-prompt").textContent = response.in_prompt.translation || words.empty;
  byId("learn-in-weights").textContent = response.in_weights.translation || words.empty;
  byId("learn-losses").replaceChildren(...response.losses.map((loss, index) => {
    const item = document.createElement("li");
    item.textContent = format(words.loss, { step: index + 1, loss: loss.toFixed(2) });
    return item;
  }));
  byId("learn-results").hidden = false;
}
