// @ts-check
// Wiring: the views and widgets, the one state object, the events, and one render() that
// derives the whole page from the state.
import { positionalEncoding, postJson } from "./api.js";
import { positionalFigure } from "./heatmap.js";
import { format } from "./text.js";
import { translationModels } from "./models.js";
import {
  fromQuery, isSeedRequest, requestOf, schemaOf, toQuery, urlState, viewOf,
} from "./state.js";
import { VIEWS } from "./views/index.js";
import { download, renderAnswer, renderStatus } from "./widgets/answer.js";
import { renderAttention, renderSite } from "./widgets/attention.js";
import {
  addModelOptions, exampleButtons, fieldKeys, formIsValid, readControls, renderSettings,
  writeControls,
} from "./widgets/controls.js";
import { byId, markRendered, measureUntilPainted, showOnly } from "./widgets/dom.js";
import { bindInside, renderInside } from "./widgets/inside.js";
import { bindNav, renderNav } from "./widgets/nav.js";
import { draw, PLOT_CONFIG, plotly } from "./widgets/plots.js";
import { renderSteps, stopPlaying, togglePlay } from "./widgets/step-panel.js";

/** @typedef {import("./views/view.js").PageData} PageData */
/** @typedef {import("./views/view.js").App} App */
/** @typedef {import("./views/view.js").State} State */

/** @type {PageData} */
const page = {
  ...JSON.parse(byId("initial-data").textContent),
  text: JSON.parse(byId("page-text").textContent),
};
const words = page.text.common;
// The views this server can show (the GPT view needs a GPT loaded); a link to another opens
// the first.
const available = VIEWS.filter((view) => view.available(page));
const views = available.length ? available : VIEWS.slice(0, 1);
const schema = schemaOf(views, page);
const keys = fieldKeys(views, page);
/** Fields whose change redraws at once; what the reader types is read when it is sent. */
const settingKeys = keys.filter((key) => !views.some((view) => view.input === key));

const state = /** @type {State} */ ({
  ...fromQuery(window.location.search, schema),
  response: null,
  shown: null,  // what was asked for the response on screen: the URL shares this, not unsent settings
  error: "",
  stale: false,  // a newer request failed: what is on screen answers an earlier one
  busy: false,
  requests: 0,  // only the answer to the latest request is shown
  player: null,
  compare: { response: null, note: "" },  // the GPT's prompt sentence, translated (side by side)
  scores: null,  // the GPT's head scores, loaded once
  opened: { answer: null, cell: "", response: null, note: "" },  // inside a head (widgets/inside.js)
  lens: { answer: null, response: null, note: "" },  // the logit lens of the answer on screen
});
/** @type {App} */
const app = { state, page, render, submit };

/** The view on screen. */
const current = () => viewOf(state.mode, views);

async function submit() {
  const start = performance.now();
  if (!formIsValid(byId("translate-form"))) return;
  readControls(state, keys);
  stopPlaying(state);
  const id = ++state.requests;
  state.busy = true;
  state.error = "";
  renderStatus(state, words);  // only the spinner: redrawing the old plots would delay the request
  const view = current();
  const { path, body } = view.request(state, page);
  const asked = requestOf(state, schema);
  let answered = false;
  try {
    const response = await postJson(path, body, words, (seconds) => {
      byId("error").textContent = format(words.retrying, { seconds });
    });
    if (id !== state.requests) return;  // a newer request (or view) has replaced this one
    state.response = response;
    state.shown = asked;
    state.stale = false;
    state.compare = { response: null, note: "" };  // the old sentence's, until it is replaced
    state.step = 0;
    answered = true;
  } catch (err) {
    if (id !== state.requests) return;
    state.error = err instanceof Error ? err.message : String(err);
    state.stale = state.response !== null;
  } finally {
    if (id === state.requests) {
      state.busy = false;
      render();
      measureUntilPainted("attnscope:translate", start);
    }
  }
  // Only for a new answer: after a failure, the old answer keeps what the view added to it.
  if (answered && id === state.requests) view.answered?.(app, id);
}

/** Nothing on screen yet: what a new view, or a new history entry, starts from. */
function clearAnswer() {
  state.response = null;
  state.shown = null;
  state.stale = false;
  state.compare = { response: null, note: "" };
}

/**
 * Switch to another view (its nav link), as a new history entry, and answer in it.
 * @param {string} name
 */
function setMode(name) {
  const view = viewOf(name, views);
  if (view.name === state.mode) return;
  readControls(state, keys);
  state.mode = view.name;
  clearAnswer();
  if (!view.sites.includes(state.view)) state.view = view.sites[0];
  view.enter?.(app);
  window.history.pushState(null, "", `?${toQuery(state, schema)}`);
  render();
  submit();
}

/** Back or Forward: the state the entry's URL says, answered afresh. */
async function openUrl() {
  Object.assign(state, fromQuery(window.location.search, schema));
  writeControls(state, keys);
  clearAnswer();
  current().enter?.(app);
  const step = state.step;  // the entry's step survives the fetch
  render();
  await submit();
  state.step = step;
  render();
}

/** A step change redraws only what depends on the step: the step panel, not the heatmaps. */
function showStep() {
  const start = performance.now();
  if (!state.response) return;
  renderSteps(app, current(), state.response);
  syncUrl();
  markRendered();
  measureUntilPainted("attnscope:step", start);
}

function render() {
  const view = current();
  const own = page.text.views[view.name];
  renderStatus(state, words);
  showOnly(view.name, state.view);
  renderNav(view.name, (name) => (views.some((v) => v.name === name)
    ? null : page.text.views[name]?.unavailable ?? ""));
  renderSettings(view, VIEWS);
  byId("submit").textContent = own.submit;
  byId("output-label").textContent = own.output;
  byId("decoder-title").textContent = own.decoder_title;
  byId("self-title").textContent = own.self_title;
  byId("examples").replaceChildren(...exampleButtons(view.examples(state, page), (example) => {
    byId(view.input).value = example.value;
    const settings = example.settings ?? {};
    writeControls(settings, Object.keys(settings));
    submit();
  }));
  renderSite(state.view);
  const response = state.response;
  renderAnswer(response, own.empty_answer, words.note);
  if (!response) return;
  renderAttention(state, response, words);
  renderSteps(app, view, response);
  view.render?.(app, response);
  renderInside(app);
  syncUrl();
  markRendered();
}

function syncUrl() {
  const query = toQuery(urlState(state, state.shown), schema);
  if (window.location.search.slice(1) !== query) window.history.replaceState(null, "", `?${query}`);
}

/** Open a head of the current site in the head view. @param {number} layer @param {number} head */
function openHead(layer, head) {
  state.layer = layer;
  state.head = head;
  render();
  byId("head-plot").scrollIntoView({ behavior: "smooth", block: "center" });
}

function bindEvents() {
  byId("translate-form").addEventListener("submit", (/** @type {Event} */ event) => {
    event.preventDefault();
    submit();
  });
  byId("prompt").addEventListener("keydown", (/** @type {KeyboardEvent} */ event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit();
    }
  });
  bindNav(setMode);
  bindInside(app);
  window.addEventListener("popstate", openUrl);
  for (const id of settingKeys) {
    byId(id)?.addEventListener("change", () => { readControls(state, keys); render(); });
  }
  byId("view").addEventListener("change", () => { state.view = byId("view").value; render(); });
  byId("layer").addEventListener("change", () => { state.layer = Number(byId("layer").value); render(); });
  byId("head").addEventListener("change", () => {
    const value = byId("head").value;
    state.head = value === "mean" ? "mean" : Number(value);
    render();
  });
  for (const box of document.querySelectorAll(".block.attn")) {
    box.addEventListener("click", () => {
      state.view = /** @type {any} */ (/** @type {HTMLElement} */ (box).dataset.view);
      render();
    });
  }
  byId("step").addEventListener("input", () => {
    stopPlaying(state);
    state.step = Number(byId("step").value);
    showStep();
  });
  byId("play").addEventListener("click", () => {
    togglePlay(state, showStep);
    render();
  });
  // How many token labels fit depends on the plots' size: redraw once the window settles.
  let resizing = 0;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(() => { if (state.response) render(); }, 250);
  });
  document.addEventListener("keydown", (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    if (["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName) && target.id !== "step") return;
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;  // Alt+←: back
    if (target.id === "step") event.preventDefault();  // the slider would move twice
    stopPlaying(state);
    state.step += event.key === "ArrowRight" ? 1 : -1;
    showStep();
  });
  byId("model-plot").on("plotly_click", (/** @type {any} */ event) => {
    const [layer, head] = event.points[0].data.meta;
    openHead(layer, head);
  });
  byId("download-json").addEventListener("click", () => {
    if (state.response) {
      download("attnscope.json", new Blob([JSON.stringify(state.response, null, 2)],
        { type: "application/json" }));
    }
  });
  byId("download-png").addEventListener("click", () => {
    plotly().downloadImage(byId("head-plot"), { format: "png", filename: "attnscope-head", scale: 2 });
  });
}

async function start() {
  addModelOptions(byId("model"), translationModels(page.models), words.model_option);
  if (![...byId("model").options].some((option) => option.value === state.model)) {
    state.model = "auto";  // a shared link may name a model this server does not have
  }
  writeControls(state, keys);
  // Empty plots first, so Plotly's event hooks (.on) exist before events are bound.
  for (const id of ["head-plot", "model-plot"]) plotly().newPlot(byId(id), [], {}, PLOT_CONFIG);
  bindEvents();
  current().enter?.(app);
  if (isSeedRequest(state, schema) && page.response) {
    state.response = page.response;
    state.shown = requestOf(state, schema);
    render();
  } else {
    const step = state.step;  // the shared URL's step survives the fetch
    render();
    await submit();
    state.step = step;
    render();
  }
  positionalEncoding(48, page.models[0].name)
    .then((table) => draw(byId("pe-plot"), positionalFigure(table.values, words.plot)))
    .catch(() => { byId("pe-plot").textContent = words.positional_failed; });
}

start();
