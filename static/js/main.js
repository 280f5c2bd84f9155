// @ts-check
// Wiring: one state object, one render() that derives the whole page from it.
import { headScores, positionalEncoding, postJson } from "./api.js";
import {
  answerToPrompt, findMap, headFigure, layersOf, modelFigure, positionalFigure,
} from "./heatmap.js";
import {
  DECODING_KEYS, fromQuery, gptModel, isSeedRequest, modelFor, queryOf, request, requestOf,
  toQuery, translationModels, urlState,
} from "./state.js";
import {
  attentionRowBars, candidateBars, demonstrationShares, prefixTokens, stepRow,
} from "./steps.js";

/** @typedef {import("./types.js").TranslateResponse} TranslateResponse */
/** @typedef {import("./types.js").GenerateResponse} GenerateResponse */
/** @typedef {import("./types.js").HeadScores} HeadScores */
/** @typedef {import("./types.js").ModelInfo} ModelInfo */

// Plotly is a classic script served from the installed plotly package.
const Plotly = /** @type {any} */ (window).Plotly;
// No mode bar: its buttons were invisible stops for the keyboard and covered plot titles on a
// phone. Drag still zooms and a double click resets; PNG and JSON have their own buttons.
const PLOT_CONFIG = { responsive: true, displaylogo: false, displayModeBar: false };
// Pixels one token label needs along an axis (a CJK character at 12 px, tilted), and the
// pixels of a heatmap's element that are margin rather than plot (headFigure's margins).
const LABEL_PX = { x: 16, y: 14 };
const MARGIN_PX = { x: 110, y: 130 };
const PLAY_INTERVAL_MS = 800;

const EXAMPLES = {
  "zh-en": ["我有一只猫。", "我爱你。", "今天天气很好。", "他昨天去了北京。", "这本书很有意思。"],
  "en-zh": ["I have a cat.", "I love you.", "It's a nice day today.", "Where is the station?"],
};
// A GPT prompt: zero-shot (the query alone) or few-shot (demonstrations first).
const GPT_EXAMPLES = [
  { label: "zero-shot: 我有一只猫。 =>", prompt: "我有一只猫。 =>" },
  { label: "few-shot: three examples, then 我有一只猫。 =>",
    prompt: "我爱你。 => I love you.\n他是学生。 => He is a student.\n" +
      "这本书很有意思。 => This book is very interesting.\n我有一只猫。 =>" },
];
const EXPLAIN = {
  "encoder.self": "Encoder self-attention: every source token looks at every source token, in both " +
    "directions, to build a representation of the sentence. 编码器自注意力：每个源语言词都可以看所有源语言词。",
  "decoder.self": "Masked decoder self-attention: each output position looks only at the output " +
    "before it (grey cells are the masked future). 掩码自注意力：每个输出位置只能看它之前的输出。",
  "decoder.cross": "Cross-attention: queries come from the decoder, keys and values from the " +
    "encoder, so each output token looks back at the source. 交叉注意力：解码器的每个词回看源句子。",
  "gpt.self": "Masked self-attention of the GPT: each position looks only at what comes before it, " +
    "the prompt and the answer so far (grey cells are the masked future). With no encoder, this " +
    "is the only way the GPT can read the sentence. GPT 的掩码自注意力：没有编码器，只能回看提示和已生成的词。",
};
const ARCH_NOTE = {
  translate: "The Transformer of \"Attention Is All You Need\": an encoder reads the sentence, a " +
    "decoder writes the translation and looks back at the encoder through cross-attention. " +
    "Click an attention box to see its heads.",
  gpt: "GPT is the Transformer's decoder alone: no encoder and no cross-attention. The prompt and " +
    "the answer are one sequence, read by masked self-attention. GPT 就是只有解码器的 Transformer。",
};
const STEPS_NOTE = {
  translate: "At step t the decoder sees <s> and the tokens it has written so far, and produces " +
    "one more. Use ← and → to move. 第 t 步：解码器看到已经生成的词，再生成下一个词。",
  gpt: "At step t the GPT sees <s>, the whole prompt and the answer so far, and produces one more " +
    "token. Use ← and → to move. 第 t 步：GPT 看到提示和已经生成的词，再生成下一个词。",
};

/** @param {string} id */
const $ = (id) => /** @type {any} */ (document.getElementById(id));

const initial = JSON.parse($("initial-data").textContent);
/** @type {ModelInfo[]} */
const models = initial.models;
const GPT = gptModel(models);  // null when the server has no GPT loaded
const state = {
  ...fromQuery(window.location.search, initial.seed_text),
  /** @type {TranslateResponse | GenerateResponse | null} */ response: null,
  /** What was asked for the response on screen: the URL shares this, not unsent settings. */
  /** @type {Record<string, any> | null} */ shown: null,
  error: "",
  stale: false,  // a newer request failed: what is on screen answers an earlier one
  busy: false,
  requests: 0,  // only the answer to the latest request is shown
  /** @type {number | null} */ player: null,
  /** For the GPT's prompt sentence, the translation model's answer (side by side). */
  compare: { /** @type {TranslateResponse | null} */ response: null, note: "" },
  /** @type {HeadScores | null} */ scores: null,
};
if (state.mode === "gpt" && !GPT) state.mode = "translate";

/** @returns {GenerateResponse | null} the response, when it is a GPT's */
function gptResponse() {
  return state.response && "roles" in state.response ? state.response : null;
}

function readControls() {
  state.text = $("text").value;
  state.prompt = $("prompt").value;
  state.model = $("model").value;
  state.strategy = $("strategy").value;
  state.stop_at_line_end = $("stop_at_line_end").checked;
  for (const key of DECODING_KEYS.filter((k) => k !== "strategy")) {
    const value = Number($(key).value);
    if ($(key).value !== "" && $(key).validity.valid && Number.isFinite(value)) state[key] = value;
  }
}

function writeControls() {
  $("text").value = state.text;
  $("prompt").value = state.prompt;
  for (const radio of document.querySelectorAll("input[name=mode]")) {
    /** @type {HTMLInputElement} */ (radio).checked = /** @type {HTMLInputElement} */ (radio).value === state.mode;
  }
  $("model").value = state.model;
  for (const key of DECODING_KEYS) $(key).value = String(state[key]);
  $("stop_at_line_end").checked = state.stop_at_line_end;
}

/**
 * Record how long `work` took until the browser could paint its result, as a performance
 * measure named `name` (bench/browser.py reads them; the page itself never needs them).
 * @param {string} name @param {number} start a performance.now() value
 */
function measureUntilPainted(name, start) {
  requestAnimationFrame(() => performance.measure(name, { start, end: performance.now() }));
}

/**
 * True when every field is valid; otherwise the browser says what is wrong with the first one
 * (opening the settings if it is there). Example buttons and Ctrl+Enter come here too, so they
 * cannot send what the form would refuse.
 */
function formIsValid() {
  const fields = [...$("translate-form").querySelectorAll("input, select, textarea")];
  const invalid = fields.find((f) => !f.hidden && f.willValidate && !f.validity.valid);
  if (!invalid) return true;
  const settings = invalid.closest("details");
  if (settings) settings.open = true;
  invalid.reportValidity();
  return false;
}

async function submit() {
  const start = performance.now();
  if (!formIsValid()) return;
  readControls();
  stopPlaying();
  const id = ++state.requests;
  state.busy = true;
  state.error = "";
  renderStatus();  // only the spinner: redrawing the old plots would delay the request
  const { path, body } = request(state, models);
  const asked = requestOf(state);
  let answered = false;
  try {
    const response = await postJson(path, body);
    if (id !== state.requests) return;  // a newer request (or mode) has replaced this one
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
  // Only for a new answer: after a failure, the old answer keeps its old comparison.
  if (answered && id === state.requests && gptResponse()) loadComparison(id);
}

/**
 * Translate the GPT prompt's query sentence with the encoder-decoder, for the side-by-side view.
 * @param {number} id the request it belongs to
 */
async function loadComparison(id) {
  const sentence = queryOf(state.prompt);
  const model = modelFor(sentence, "auto");
  state.compare = { response: null, note: "" };
  if (!sentence) {
    state.compare.note = "The prompt's last line has no sentence before =>.";
  } else if (!translationModels(models).some((m) => m.name === model)) {
    state.compare.note = `No ${model} translation model is loaded to compare with.`;
  } else {
    state.compare.note = `Translating “${sentence}” with ${model}…`;
    renderComparison();
    const { path, body } = request({ ...state, mode: "translate", text: sentence, model }, models);
    try {
      const response = await postJson(path, body);
      if (id !== state.requests) return;
      state.compare = { response, note: `The same sentence, “${sentence}”, in both models.` };
    } catch (err) {
      if (id !== state.requests) return;
      state.compare.note = `The translation model could not answer: ${
        err instanceof Error ? err.message : String(err)}`;
    }
  }
  renderComparison();
}

async function loadScores() {
  if (!GPT || state.scores) return;
  try {
    state.scores = await headScores(GPT);
  } catch {
    $("scores-tables").textContent = "The head scores could not be loaded.";
    return;
  }
  renderScores();
}

/** Switch between the translation Transformer and the GPT, and answer in the new mode. */
function setMode(mode) {
  readControls();
  state.mode = mode;
  state.response = null;
  state.shown = null;
  state.stale = false;
  state.compare = { response: null, note: "" };
  if (mode === "gpt") {
    state.view = "decoder.self";
    if (!state.prompt.trim()) state.prompt = GPT_EXAMPLES[1].prompt;
    $("prompt").value = state.prompt;
    loadScores();
  }
  render();
  submit();
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
  const row = stepRow(response, state.step);
  const layer = Math.min(state.layer, layersOf(response, "decoder.self").length - 1);
  const self = findMap(response, "decoder.self", layer);
  const gpt = gptResponse();
  if (gpt && self) {
    drawBars($("self-plot"), attentionRowBars(self, state.head, row, gpt.roles));
    renderShares(gpt, self, row);
    return;
  }
  const cross = findMap(response, "decoder.cross", layer);
  if (cross) drawBars($("cross-plot"), attentionRowBars(cross, state.head, row));
  if (self) drawBars($("self-plot"), attentionRowBars(self, state.head, row));
}

/**
 * Each head's share of attention on the demonstrations: at this step, and (from the API) the
 * mean over the whole answer.
 * @param {GenerateResponse} response @param {import("./types.js").AttentionMap} map
 * @param {number} row
 */
function renderShares(response, map, row) {
  if (!response.roles.includes("demonstration")) {
    const note = document.createElement("p");
    note.className = "explain";  // one sentence, not a bar: outside the bar columns
    note.textContent = "This prompt has no demonstrations: try the few-shot example.";
    $("share-plot").replaceChildren(note);
    return;
  }
  const now = demonstrationShares(map, response.roles, row);
  const mean = response.demonstration_share[map.name] ?? [];
  drawBars($("share-plot"), {
    items: now.map((value, h) => ({
      label: `head ${h} (${(mean[h] ?? 0).toFixed(2)})`, value, role: "demonstration" })),
    highlight: state.head === "mean" ? -1 : state.head,
  });
}

/**
 * Draw labelled bars as plain HTML: a step change redraws three of these, and laying out
 * dozens of token labels in Plotly took longer than a step change may (bench/browser.py).
 * Labels go in as textContent, so a token is never parsed as HTML.
 * @param {HTMLElement} element @param {import("./steps.js").Bars} bars
 */
function drawBars(element, bars) {
  element.replaceChildren(...bars.items.map(({ label, value, role }, i) => {
    const item = document.createElement("div");
    item.className = ["bar-item", role ?? "", i === bars.highlight ? "chosen" : ""].join(" ").trim();
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
  $("error").textContent = state.stale && state.error
    ? `${state.error} (What is shown below still answers the previous request.)`
    : state.error;
  document.body.classList.toggle("stale", state.stale);
  document.body.classList.toggle("waiting", state.busy);
}

/** Show what belongs to the mode and hide the rest: a GPT has no encoder and no cross-attention. */
function renderMode() {
  const gpt = state.mode === "gpt";
  for (const id of ["prompt-label", "prompt", "share-box", "role-legend", "compare-panel",
    "scores-panel", "stop-label"]) {
    $(id).hidden = !gpt;
  }
  for (const id of ["text-label", "text", "model-label", "encoder-stack", "cross-box"]) {
    $(id).hidden = gpt;
  }
  document.querySelectorAll(".cross-part").forEach((el) => {
    /** @type {HTMLElement} */ (el).hidden = gpt;
  });
  $("text").required = !gpt;
  $("prompt").required = gpt;
  $("submit").textContent = gpt ? "Generate" : "Translate";
  $("output-label").textContent = gpt ? "The GPT's continuation" : "Translation";
  $("decoder-title").textContent = gpt ? "GPT: decoder only" : "Decoder";
  $("arch-note").textContent = ARCH_NOTE[state.mode];
  $("explain-steps").textContent = STEPS_NOTE[state.mode];
  $("self-title").textContent = gpt ? "Self-attention over the prompt and the answer so far"
    : "Self-attention over the output so far";
  $("hint").textContent = gpt
    ? "Ctrl+Enter to generate. The GPT continues the text; each head's attention shows how it " +
      "uses the demonstrations."
    : "Press Enter to translate. Chinese goes to English, English to Chinese.";
  for (const option of $("view").options) {
    option.disabled = gpt && option.value !== "decoder.self";
  }
  // Only the settings the chosen strategy uses can be edited (and are checked).
  const strategy = $("strategy").value;
  $("beam_size").disabled = strategy !== "beam";
  for (const id of ["temperature", "top_k", "top_p", "seed"]) $(id).disabled = strategy !== "sample";
  const gptRadio = /** @type {HTMLInputElement} */ (document.querySelector("input[value=gpt]"));
  gptRadio.disabled = !GPT;
  gptRadio.parentElement.title = GPT ? "" : "No GPT model is loaded on this server.";
  $("examples").replaceChildren(...exampleButtons());
}

function exampleButtons() {
  const examples = state.mode === "gpt"
    ? GPT_EXAMPLES
    : (EXAMPLES[modelFor(state.text, state.model)] ?? []).map((text) => ({ label: text, prompt: text }));
  return examples.map(({ label, prompt }) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.addEventListener("click", () => {
      $(state.mode === "gpt" ? "prompt" : "text").value = prompt;
      submit();
    });
    return button;
  });
}

function render() {
  renderStatus();
  renderMode();
  const response = state.response;
  document.querySelectorAll(".block.attn").forEach((box) => {
    box.classList.toggle("active", /** @type {HTMLElement} */ (box).dataset.view === state.view);
  });
  $("view").value = state.view;
  $("explain-view").textContent = EXPLAIN[state.mode === "gpt" ? "gpt.self" : state.view];
  if (!response) {
    $("translation").textContent = "";
    $("notes").textContent = "";
    return;
  }
  // The server's remarks on the input: the other language, characters the model never saw.
  $("notes").textContent = (response.notes ?? []).map((note) => `Note: ${note}.`).join("\n");
  $("translation").textContent = response.translation;
  $("translation").classList.toggle("empty", !response.translation.trim());
  if (!response.translation.trim()) {
    $("translation").textContent = state.mode === "gpt"
      ? "(nothing: the first token it chose ended the answer; see the step view)"
      : "(nothing: the first token it chose was </s>; see the step view)";
  }
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
  const head = headFigure(map, state.head, labelRoom($("head-plot")));
  Plotly.react($("head-plot"), head.data, head.layout, PLOT_CONFIG);
  const grid = modelFigure(response, state.view);
  Plotly.react($("model-plot"), grid.data, grid.layout, PLOT_CONFIG);
  renderSteps(response);
  if (state.mode === "gpt") {
    renderComparison();
    renderScores();
  }
  syncUrl();
  markRendered();
}

/** The translation model's cross-attention beside the GPT's attention from its answer to its prompt. */
function renderComparison() {
  $("compare-status").textContent = state.compare.note;
  const gpt = gptResponse();
  const cross = state.compare.response;
  if (!gpt || !cross) {
    // An empty figure, not Plotly.purge: purging a plot whose margins Plotly is still
    // redrawing threw "Cannot read properties of undefined" on every new generation.
    for (const id of ["compare-cross", "compare-gpt"]) Plotly.react($(id), [], {}, PLOT_CONFIG);
    return;
  }
  const drawn = [
    ["compare-cross", cross, "decoder.cross", (map) => map],
    ["compare-gpt", gpt, "decoder.self", (map) => answerToPrompt(map, gpt.prompt_tokens.length)],
  ];
  for (const [id, response, view, select] of drawn) {
    const layers = layersOf(response, view);
    const layer = layers.includes(state.layer) ? state.layer : layers[layers.length - 1];
    const map = select(findMap(response, view, layer));
    const head = state.head === "mean" || state.head < map.weights.length ? state.head : "mean";
    const figure = headFigure(map, head, labelRoom($(id)));
    figure.layout.margin = { l: 80, r: 10, t: 40, b: 80 };
    Plotly.react($(id), figure.data, figure.layout, PLOT_CONFIG);
  }
  markRendered();
}

/** Two layer × head tables (induction, previous token); a cell opens its head. */
function renderScores() {
  const scores = state.scores;
  if (!scores) return;
  const tables = [["induction", "Induction score"], ["previous_token", "Previous-token score"]];
  $("scores-tables").replaceChildren(...tables.map(([kind, title]) => {
    const table = document.createElement("table");
    table.className = "score-table";
    table.dataset.kind = kind;
    const caption = table.createCaption();
    caption.textContent = title;
    const sites = Object.keys(scores[kind]);
    const heads = scores[kind][sites[0]]?.length ?? 0;
    const header = table.createTHead().insertRow();
    header.append(document.createElement("th"));
    for (let h = 0; h < heads; h++) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = `head ${h}`;
      header.append(th);
    }
    const body = table.createTBody();
    sites.forEach((site) => {
      const layer = Number(site.split(".")[1]);
      const row = body.insertRow();
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = `layer ${layer}`;
      row.append(th);
      scores[kind][site].forEach((value, head) => {
        const cell = row.insertCell();
        const button = document.createElement("button");
        button.type = "button";
        button.className = "score";
        button.textContent = value.toFixed(2);
        button.title = `${site}, head ${head}: ${title.toLowerCase()} ${value.toFixed(4)}`;
        button.setAttribute("aria-label", `layer ${layer}, head ${head}: ${title.toLowerCase()} ${
          value.toFixed(2)}; open this head`);
        // At most 0.75 of the accent colour, so the dark text keeps a contrast of 4.5:1.
        button.style.backgroundColor = `rgba(42, 91, 215, ${(0.75 * Math.min(1, value)).toFixed(3)})`;
        button.addEventListener("click", () => {
          state.view = "decoder.self";
          state.layer = layer;
          state.head = head;
          render();
          $("head-plot").scrollIntoView({ behavior: "smooth", block: "center" });
        });
        cell.append(button);
      });
    });
    return table;
  }));
}

/** How many token labels fit along each axis of a plot element. @param {HTMLElement} element */
function labelRoom(element) {
  return {
    x: Math.max(1, Math.floor((element.clientWidth - MARGIN_PX.x) / LABEL_PX.x)),
    y: Math.max(1, Math.floor((element.clientHeight - MARGIN_PX.y) / LABEL_PX.y)),
  };
}

function syncUrl() {
  const query = toQuery(urlState(state, state.shown));
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
  $("prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit();
    }
  });
  for (const radio of document.querySelectorAll("input[name=mode]")) {
    radio.addEventListener("change", () => setMode(/** @type {HTMLInputElement} */ (radio).value));
  }
  for (const id of ["model", "strategy", "stop_at_line_end", ...DECODING_KEYS]) {
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
  for (const model of translationModels(models)) {
    $("model").append(new Option(`${model.name} (${model.source_language} → ${model.target_language})`,
      model.name));
  }
  if (![...$("model").options].some((option) => option.value === state.model)) {
    state.model = "auto";  // a shared link may name a model this server does not have
  }
  writeControls();
  // Empty plots first, so Plotly's event hooks (.on) exist before events are bound.
  for (const id of ["head-plot", "model-plot"]) {
    Plotly.newPlot($(id), [], {}, PLOT_CONFIG);
  }
  bindEvents();
  if (state.mode === "gpt") {
    if (!state.prompt.trim()) state.prompt = GPT_EXAMPLES[1].prompt;
    $("prompt").value = state.prompt;
    loadScores();
  }
  if (isSeedRequest(state, initial.seed_text) && initial.response) {
    state.response = initial.response;
    state.shown = requestOf(state);
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
