// @ts-check
// The "Inside a head" panel: a click on a cell of the head view (or its site, head and query
// selects) opens that cell's row, and /api/inside's numbers are drawn step by step, from x to
// the feed-forward layer. The cell is the state's `inside` key, so a link shares it.
import { postJson } from "../api.js";
import { shownToken } from "../escape.js";
import { findMap } from "../heatmap.js";
import { cellKey, cellOf, insideFigures } from "../inside.js";
import { format } from "../text.js";
import { requestFor } from "../views/index.js";
import { setOptions } from "./controls.js";
import { byId, markRendered } from "./dom.js";
import { loadLens } from "./lens.js";
import { draw, labelRoom } from "./plots.js";

/** @typedef {import("../views/view.js").App} App */
/** @typedef {import("../inside.js").Cell} Cell */
/**
 * What the panel holds: the answer it belongs to (`answer`), the cell asked for in it (`cell`,
 * its `inside` key), that cell's numbers when they have come, and a note on where it stands.
 * @typedef {{answer: any, cell: string, response: import("../types.js").InsideResponse | null,
 *            note: string}} Opened
 */

/** The figures on screen were drawn from this response. @type {any} */
let drawn = null;

/** Open a cell: the state says so, and render() asks for it. @param {App} app @param {Cell} cell */
function open(app, cell) {
  const { state } = app;
  state.inside = cellKey(cell);
  if (state.opened.cell === state.inside && !state.opened.response) state.opened.cell = "";  // again
  app.render();
}

/**
 * The cell the selects show: the one opened, or else the head view's site and head, query 0.
 * @param {App} app @returns {Cell | null}
 */
function shownCell(app) {
  const { state } = app;
  const opened = cellOf(state.inside, state.response);
  if (opened) return opened;
  const map = state.response && findMap(state.response, state.view, state.layer);
  return map ? { site: map.name, head: state.head === "mean" ? 0 : state.head, query: 0 } : null;
}

/** The selects, read; a query past the chosen site's rows becomes its last. @param {App} app */
function chosenCell(app) {
  const site = byId("inside-site").value;
  const map = app.state.response?.attention.find((m) => m.name === site);
  const rows = map ? map.query_tokens.length : 1;
  return { site, head: Number(byId("inside-head").value),
           query: Math.min(Number(byId("inside-query").value), rows - 1) };
}

/** Listen to the head view's clicks and to the panel's selects. @param {App} app */
export function bindInside(app) {
  byId("head-plot").on("plotly_click", (/** @type {any} */ event) => {
    const { state } = app;
    const point = event.points?.[0];
    const map = state.response && findMap(state.response, state.view, state.layer);
    if (!point || !map) return;
    open(app, { site: map.name, head: state.head === "mean" ? 0 : state.head, query: point.y });
    byId("inside-panel").scrollIntoView({ behavior: "smooth", block: "start" });
  });
  for (const id of ["inside-site", "inside-head", "inside-query"]) {
    byId(id).addEventListener("change", () => open(app, chosenCell(app)));
  }
}

/**
 * Draw the panel from the state: a new answer drops what was opened in the old one (and asks
 * for its logit lens); a cell not yet asked for in this answer is asked for.
 * @param {App} app
 */
export function renderInside(app) {
  const { state } = app;
  if (!state.response) return;
  if (state.opened.answer !== state.response) {
    state.opened = { answer: state.response, cell: "", response: null, note: "" };
    loadLens(app);
  }
  const opened = cellOf(state.inside, state.response);
  state.inside = opened ? cellKey(opened) : "";  // a cell this answer does not have is dropped
  renderSelects(app);
  if (opened && state.opened.cell !== state.inside) ask(app, opened);
  renderOpened(app);
}

/** @param {App} app */
function renderSelects(app) {
  const { state } = app;
  const words = app.page.text.common.inside;
  const cell = shownCell(app);
  const map = cell && state.response?.attention.find((m) => m.name === cell.site);
  if (!cell || !map || !state.response) return;
  const sites = state.response.attention.map((m) => m.name);
  const heads = map.weights.map((_, head) => head);
  const queries = map.query_tokens.map((_, query) => query);
  setOptions(byId("inside-site"), sites, sites);
  setOptions(byId("inside-head"), heads, heads.map((head) => format(words.head_option, { head })));
  setOptions(byId("inside-query"), queries, map.query_tokens.map((token, query) =>
    format(words.query_option, { query, token: shownToken(token) })));
  byId("inside-site").value = cell.site;
  byId("inside-head").value = String(cell.head);
  byId("inside-query").value = String(cell.query);
}

/** Ask the server for a cell of the answer on screen. @param {App} app @param {Cell} cell */
async function ask(app, cell) {
  const { state, page } = app;
  const words = page.text.common.inside;
  const key = cellKey(cell);
  const answer = state.response;
  state.opened = { answer, cell: key, response: null, note: format(words.opening, cell) };
  const body = { ...requestFor(state, page).body, ...cell };
  /** Still the cell and the answer asked for? */
  const current = () => state.opened.answer === answer && state.opened.cell === key;
  try {
    const response = /** @type {any} */ (await postJson("/api/inside", body, page.text.common));
    if (!current()) return;
    state.opened.response = response;
    state.opened.note = format(words.opened, {
      ...cell, token: shownToken(response.query_token), keys: response.key_tokens.length,
      d_head: response.d_head, d_model: response.d_model });
  } catch (err) {
    if (!current()) return;
    state.opened.note = format(words.failed, { error: err instanceof Error ? err.message : String(err) });
  }
  renderOpened(app);
  markRendered();
}

/** The note, and the steps' figures once they have come. @param {App} app */
function renderOpened(app) {
  const { state } = app;
  const words = app.page.text.common.inside;
  const response = state.opened.cell === state.inside ? state.opened.response : null;
  byId("inside-status").textContent = state.inside ? state.opened.note : words.pick;
  byId("inside-steps").hidden = response === null;
  if (response === null || response === drawn) return;
  drawn = response;
  const room = labelRoom(byId("inside-probs")).x;
  const figures = insideFigures(response, { ...words, thinned: app.page.text.common.plot.thinned },
    room);
  for (const [key, figure] of Object.entries(figures)) {
    const element = byId(`inside-${key}`);
    element.style.height = `${figure.layout.height}px`;  // K and V grow with the keys
    draw(element, figure);
  }
}
