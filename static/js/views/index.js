// @ts-check
// The page's views, in the order of the navigation bar; the first is the default.
import { gpt } from "./gpt.js";
import { translate } from "./translate.js";

/** @type {import("./view.js").View[]} */
export const VIEWS = [translate, gpt];
