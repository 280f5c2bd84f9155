// @ts-check
// The step player's panel: the slider, what the decoder saw at step t, the next-token
// probabilities; the attention bars are the view's (View.stepBars).
import { layersOf } from "../heatmap.js";
import { candidateBars, prefixTokens, stepRow } from "../steps.js";
import { format } from "../text.js";
import { drawBars } from "./bars.js";
import { byId } from "./dom.js";
import { renderLens } from "./lens.js";

/** @typedef {import("../views/view.js").App} App */
/** @typedef {import("../views/view.js").View} View */
/** @typedef {import("../views/view.js").State} State */

const PLAY_INTERVAL_MS = 800;

/**
 * Draw step `app.state.step` (clamped to the answer) of the response on screen.
 * @param {App} app @param {View} view
 * @param {import("../types.js").TranslateResponse} response
 */
export function renderSteps(app, view, response) {
  const { state } = app;
  const words = app.page.text.common;
  const last = Math.max(0, response.steps.length - 1);
  state.step = Math.min(Math.max(0, state.step), last);
  byId("step").max = String(last);
  byId("step").value = String(state.step);
  byId("step-label").textContent = format(words.step_label, { step: state.step, last });
  byId("play").textContent = state.player === null ? words.play : words.pause;
  byId("play").setAttribute("aria-pressed", String(state.player !== null));
  byId("prefix").replaceChildren(...prefixTokens(response, state.step).map(({ text, role }) => {
    const span = document.createElement("span");
    span.className = `tok ${role}`;
    span.textContent = text;  // textContent: a token is never parsed as HTML
    if (role === "current") span.setAttribute("aria-current", "step");
    return span;
  }));
  renderLens(app);
  const step = response.steps[state.step];
  if (!step) return;
  drawBars(byId("candidates-plot"), candidateBars(step));
  const layer = Math.min(state.layer, layersOf(response, "decoder.self").length - 1);
  view.stepBars(app, response, stepRow(response, state.step), layer);
}

/** Stop the player, if it runs. @param {State} state */
export function stopPlaying(state) {
  if (state.player !== null) window.clearInterval(state.player);
  state.player = null;
}

/**
 * Start the player (from step 0 when at the end), or stop it; each tick moves one step and
 * calls `show`, until the last step.
 * @param {State} state @param {() => void} show
 */
export function togglePlay(state, show) {
  if (state.player !== null) {
    stopPlaying(state);
  } else if (state.response) {
    const last = state.response.steps.length - 1;
    if (state.step >= last) state.step = 0;
    state.player = window.setInterval(() => {
      if (!state.response || state.step >= state.response.steps.length - 1) stopPlaying(state);
      else state.step += 1;
      show();
    }, PLAY_INTERVAL_MS);
  }
}
