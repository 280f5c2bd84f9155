// @ts-check
// Wiring: one state object, one render() that derives the whole page from it.
import { positionalEncoding, translate } from "./api.js";
import { findMap, headFigure, layersOf, modelFigure, positionalFigure } from "./heatmap.js";
import { DECODING_KEYS, fromQuery, isSeedRequest, modelFor, requestBody, toQuery } from "./state.js";
import { attentionRowBars, candidateBars, prefixTokens } from "./steps.js";

/** @typedef {import("./types.js").TranslateResponse} TranslateResponse */
/** @typedef {import("./types.js").ModelInfo} ModelInfo */

// Plotly is a classic script served from the installed plotly package.
const Plotly = /** @type {any} */ (window).Plotly;
const PLOT_CONFIG = { responsive: true, displaylogo: false };
const PLAY_INTERVAL_MS = 800;

const EXAMPLES = {
  "zh-en": ["我有一只猫。", "我爱你。", "今天天气很好。", "他昨天去了北京。", "这本书很有意思。"],
  "en-zh": ["I have a cat.", "I love you.", "It's a nice day today.", "Where is the station?"],
};
const EXPLAIN = {
  "encoder.self": "Encoder self-attention: every source token looks at every source token, in both " +
    "directions, to build a representation of the sentence. 编码器自注意力：每个源语言词都可以看所有源语言词。",
  "decoder.self": "Masked decoder self-attention: each output position looks only at the output " +
    "before it (grey cells are the masked future). 掩码自注意力：每个输出位置只能看它之前的输出。",
  "decoder.cross": "Cross-attention: queries come from the decoder, keys and values from the " +
    "encoder, so each output token looks back at the source. 交叉注意力：解码器的每个词回看源句子。",
};

/** @param {string} id */
const $ = (id) => /** @type {any} */ (document.getElementById(id));

const initial = JSON.parse($("initial-data").textContent);
/** @type {ModelInfo[]} */
const models = initial.models;
const state = {
  ...fromQuery(window.location.search, initial.seed_text),
  /** @type {TranslateResponse | null} */ response: null,
  error: "",
  busy: false,
  /** @type {number | null} */ player: null,
};

function readControls() {
  state.text = $("text").value;
  state.model = $("model").value;
  state.strategy = $("strategy").value;
  for (const key of DECODING_KEYS.filter((k) => k !== "strategy")) {
    const value = Number($(key).value);
    if ($(key).value !== "" && Number.isFinite(value)) state[key] = value;
  }
}

function writeControls() {
  $("text").value = state.text;
  $("model").value = state.model;
  for (const key of DECODING_KEYS) $(key).value = String(state[key]);
}

/**
 * Record how long `work` took until the browser could paint its result, as a performance
 * measure named `name` (bench/browser.py reads them; the page itself never needs them).
 * @param {string} name @param {number} start a performance.now() value
 */
function measureUntilPainted(name, start) {
  requestAnimationFrame(() => performance.measure(name, { start, end: performance.now() }));
}

async function submit() {
  const start = performance.now();
  readControls();
  stopPlaying();
  state.busy = true;
  state.error = "";
  renderStatus();  // only the spinner: redrawing the old plots would delay the request
  try {
    state.response = await translate(requestBody(state));
    state.step = 0;
  } catch (err) {
    state.error = err instanceof Error ? err.message : String(err);
  } finally {
    state.busy = false;
    render();
    measureUntilPainted("attnscope:translate", start);
  }
}

/** A step change redraws only what depends on the step: the step panel, not the heatmaps. */
function showStep() {
  const start = performance.now();
  if (!state.response) return;
  renderSteps(state.response);
  syncUrl();
  markRendered();
  measureUntilPainted("attnscope:step", start);
}

function stopPlaying() {
  if (state.player !== null) window.clearInterval(state.player);
  state.player = null;
}

function togglePlay() {
  if (state.player !== null) {
    stopPlaying();
  } else if (state.response) {
    const last = state.response.steps.length - 1;
    if (state.step >= last) state.step = 0;
    state.player = window.setInterval(() => {
      if (!state.response || state.step >= state.response.steps.length - 1) stopPlaying();
      else state.step += 1;
      showStep();
    }, PLAY_INTERVAL_MS);
  }
  render();
}

/** Fill a <select> with options when they change. */
function setOptions(select, values, labels) {
  const wanted = values.map(String).join("|");
  if (select.dataset.values !== wanted) {
    select.replaceChildren(...values.map((v, i) => new Option(labels[i], String(v))));
    select.dataset.values = wanted;
  }
}

function renderSteps(response) {
  const last = Math.max(0, response.steps.length - 1);
  state.step = Math.min(Math.max(0, state.step), last);
  $("step").max = String(last);
  $("step").value = String(state.step);
  $("step-label").textContent = `step ${state.step} of ${last}`;
  $("play").textContent = state.player === null ? "Play" : "Pause";
  $("play").setAttribute("aria-pressed", String(state.player !== null));
  $("prefix").replaceChildren(...prefixTokens(response, state.step).map(({ text, role }) => {
    const span = document.createElement("span");
    span.className = `tok ${role}`;
    span.textContent = text;  // textContent: a token is never parsed as HTML
    if (role === "current") span.setAttribute("aria-current", "step");
    return span;
  }));
  const step = response.steps[state.step];
  if (!step) return;
  drawBars($("candidates-plot"), candidateBars(step));
  const layer = Math.min(state.layer, layersOf(response, "decoder.cross").length - 1);
  const cross = findMap(response, "decoder.cross", layer);
  const self = findMap(response, "decoder.self", layer);
  if (cross) drawBars($("cross-plot"), attentionRowBars(cross, state.head, state.step));
  if (self) drawBars($("self-plot"), attentionRowBars(self, state.head, state.step));
}

/**
 * Draw labelled bars as plain HTML: a step change redraws three of these, and laying out
 * dozens of token labels in Plotly took longer than a step change may (bench/browser.py).
 * Labels go in as textContent, so a token is never parsed as HTML.
 * @param {HTMLElement} element @param {import("./steps.js").Bars} bars
 */
function drawBars(element, bars) {
  element.replaceChildren(...bars.items.map(({ label, value }, i) => {
    const item = document.createElement("div");
    item.className = i === bars.highlight ? "bar-item chosen" : "bar-item";
    item.title = `${label}: ${value.toFixed(4)}`;
    const name = document.createElement("span");
    name.className = "bar-label";
    name.textContent = label;
    const track = document.createElement("span");
    track.className = "bar-track";
    const fill = document.createElement("span");
    fill.className = "bar-fill";
    fill.style.width = `${(100 * value).toFixed(1)}%`;
    track.append(fill);
    const number = document.createElement("span");
    number.className = "bar-value";
    number.textContent = value.toFixed(3);
    item.append(name, track, number);
    return item;
  }));
}

function renderStatus() {
  $("translate-form").classList.toggle("busy", state.busy);
  $("translate-form").setAttribute("aria-busy", String(state.busy));
  $("error").textContent = state.error;
}

function render() {
  renderStatus();
  const response = state.response;
  const direction = modelFor(state.text, state.model);
  $("examples").replaceChildren(...(EXAMPLES[direction] ?? []).map((text) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = text;
    button.addEventListener("click", () => { $("text").value = text; submit(); });
    return button;
  }));
  document.querySelectorAll(".block.attn").forEach((box) => {
    box.classList.toggle("active", /** @type {HTMLElement} */ (box).dataset.view === state.view);
  });
  $("view").value = state.view;
  $("explain-view").textContent = EXPLAIN[state.view];
  if (!response) return;
  $("translation").textContent = response.translation;
  const layers = layersOf(response, state.view);
  if (!layers.includes(state.layer)) state.layer = layers[0] ?? 0;
  const map = findMap(response, state.view, state.layer);
  if (!map) return;
  const heads = map.weights.length;
  if (state.head !== "mean" && !(state.head >= 0 && state.head < heads)) state.head = "mean";
  setOptions($("layer"), layers, layers.map((l) => `layer ${l}`));
  setOptions($("head"), ["mean", ...Array.from({ length: heads }, (_, h) => h)],
    ["mean of heads", ...Array.from({ length: heads }, (_, h) => `head ${h}`)]);
  $("layer").value = String(state.layer);
  $("head").value = String(state.head);
  $("enc-n").textContent = `× ${layersOf(response, "encoder.self").length}`;
  $("dec-n").textContent = `× ${layersOf(response, "decoder.self").length}`;
  const head = headFigure(map, state.head);
  Plotly.react($("head-plot"), head.data, head.layout, PLOT_CONFIG);
  const grid = modelFigure(response, state.view);
  Plotly.react($("model-plot"), grid.data, grid.layout, PLOT_CONFIG);
  renderSteps(response);
  syncUrl();
  markRendered();
}

function syncUrl() {
  const query = toQuery(state);
  if (window.location.search.slice(1) !== query) window.history.replaceState(null, "", `?${query}`);
}

/** A counter the browser tests wait on. */
function markRendered() {
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
}

function download(name, blob) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function bindEvents() {
  $("translate-form").addEventListener("submit", (event) => { event.preventDefault(); submit(); });
  for (const id of ["model", "strategy", ...DECODING_KEYS]) {
    $(id).addEventListener("change", () => { readControls(); render(); });
  }
  $("view").addEventListener("change", () => { state.view = $("view").value; render(); });
  $("layer").addEventListener("change", () => { state.layer = Number($("layer").value); render(); });
  $("head").addEventListener("change", () => {
    const value = $("head").value;
    state.head = value === "mean" ? "mean" : Number(value);
    render();
  });
  document.querySelectorAll(".block.attn").forEach((box) => box.addEventListener("click", () => {
    state.view = /** @type {any} */ (/** @type {HTMLElement} */ (box).dataset.view);
    render();
  }));
  $("step").addEventListener("input", () => {
    stopPlaying();
    state.step = Number($("step").value);
    showStep();
  });
  $("play").addEventListener("click", togglePlay);
  document.addEventListener("keydown", (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    if (["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName) && target.id !== "step") return;
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    if (target.id === "step") event.preventDefault();  // the slider would move twice
    stopPlaying();
    state.step += event.key === "ArrowRight" ? 1 : -1;
    showStep();
  });
  $("model-plot").on("plotly_click", (event) => {
    const [layer, head] = event.points[0].data.meta;
    state.layer = layer;
    state.head = head;
    render();
    $("head-plot").scrollIntoView({ behavior: "smooth", block: "center" });
  });
  $("download-json").addEventListener("click", () => {
    if (state.response) {
      download("attnscope.json", new Blob([JSON.stringify(state.response, null, 2)],
        { type: "application/json" }));
    }
  });
  $("download-png").addEventListener("click", () => {
    Plotly.downloadImage($("head-plot"), { format: "png", filename: "attnscope-head", scale: 2 });
  });
}

async function start() {
  for (const model of models) {
    $("model").append(new Option(`${model.name} (${model.source_language} → ${model.target_language})`,
      model.name));
  }
  writeControls();
  // Empty plots first, so Plotly's event hooks (.on) exist before events are bound.
  for (const id of ["head-plot", "model-plot"]) {
    Plotly.newPlot($(id), [], {}, PLOT_CONFIG);
  }
  bindEvents();
  if (isSeedRequest(state, initial.seed_text) && initial.response) {
    state.response = initial.response;
    render();
  } else {
    const step = state.step;  // the shared URL's step survives the fetch
    render();
    await submit();
    state.step = step;
    render();
  }
  positionalEncoding(48, models[0].name)
    .then((table) => {
      const figure = positionalFigure(table.values);
      Plotly.react($("pe-plot"), figure.data, figure.layout, PLOT_CONFIG);
    })
    .catch(() => { $("pe-plot").textContent = "The positional encoding could not be loaded."; });
}

start();
