// @ts-check
// The logit-lens strip of the step view: per layer, the token the output layer would predict
// from that layer's output at this step (/api/logit-lens, loaded once per answer).
import { postJson } from "../api.js";
import { lensCells } from "../inside.js";
import { format } from "../text.js";
import { requestFor } from "../views/index.js";
import { byId, markRendered } from "./dom.js";

/** @typedef {import("../views/view.js").App} App */
/**
 * The lens of one answer (`answer`, the response it was asked for), or why there is none.
 * @typedef {{answer: any, response: import("../types.js").LogitLensResponse | null,
 *            note: string}} LensState
 */

/** Ask for the lens of the answer on screen; an answer to an older one is dropped. @param {App} app */
export async function loadLens(app) {
  const { state, page } = app;
  const words = page.text.common.inside.lens;
  const answer = state.response;
  state.lens = { answer, response: null, note: words.loading };
  byId("lens-strip").dataset.state = "loading";  // tests wait for it to settle
  renderLens(app);
  try {
    const response = /** @type {any} */ (
      await postJson("/api/logit-lens", requestFor(state, page).body, page.text.common));
    if (state.lens.answer !== answer) return;
    state.lens = { answer, response, note: "" };
  } catch (err) {
    if (state.lens.answer !== answer) return;
    state.lens.note = format(words.failed, { error: err instanceof Error ? err.message : String(err) });
  }
  byId("lens-strip").dataset.state = state.lens.response ? "ready" : "failed";
  renderLens(app);
  markRendered();
}

/** Draw the strip for the state's step. @param {App} app */
export function renderLens(app) {
  const { state } = app;
  const words = app.page.text.common.inside.lens;
  const lens = state.lens.answer === state.response ? state.lens.response : null;
  byId("lens-status").textContent = state.lens.note;
  const cells = lens ? lensCells(lens, state.step, words) : [];
  byId("lens-strip").replaceChildren(...cells.map((cell) => {
    const item = document.createElement("li");
    item.className = ["lens-cell", cell.chosen ? "chosen" : "", cell.first ? "first" : ""]
      .join(" ").trim();
    const prob = cell.prob.toFixed(2);
    item.title = format(words.label, { layer: cell.layer, token: cell.token, prob });
    if (cell.chosen) item.title += ` (${words.chosen})`;
    for (const [name, text] of [["lens-layer", cell.layer], ["lens-token", cell.token],
      ["lens-prob", prob]]) {
      const part = document.createElement("span");
      part.className = name;
      part.textContent = text;  // a token is never parsed as HTML
      item.append(part);
    }
    return item;
  }));
}
