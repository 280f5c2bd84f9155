// @ts-check
// The page's views, in the order of the navigation bar; the first is the default.
import { urlState, viewOf } from "../state.js";
import { gpt } from "./gpt.js";
import { stages } from "./stages.js";
import { translate } from "./translate.js";

/** @type {import("./view.js").View[]} */
export const VIEWS = [translate, gpt, stages];

/**
 * The API request of the answer on screen (`state.shown`), as its view sends it: what the
 * panels that look further into that answer (inside a head, the logit lens) send again.
 * @param {Record<string, any>} state @param {Pick<import("./view.js").PageData, "models" | "scripts">} page
 */
export function requestFor(state, page) {
  return viewOf(state.mode, VIEWS).request(urlState(state, state.shown), page);
}
