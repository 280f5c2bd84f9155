// @ts-check
// The page's state and its mirror in the URL query string, so any view can be shared. Pure: the
// views and the server's defaults come in as a schema, so node can test every rule here.

/** @typedef {import("./views/view.js").View} View */
/** @typedef {import("./views/view.js").PageData} PageData */

/**
 * The schema of the URL state: which views there are, each field's default, and the keys each
 * view's URL carries (its own, then the shared ones).
 * @typedef {{views: View[], defaults: Record<string, any>, keys: Record<string, string[]>}} Schema
 */

/** Decoding settings sent to the API, shared by every view (the rest of its request is its own). */
export const DECODING_KEYS = ["strategy", "beam_size", "temperature", "top_k", "top_p",
  "max_new_tokens", "seed"];
/**
 * The attention view state, shared by every view: site kind (`view`, whose default is the
 * current view's first site), layer, head, step, and the cell opened inside a head (`inside`,
 * `site/head/query`, or "" for none).
 */
const ATTENTION_DEFAULTS = Object.freeze({
  view: "", layer: 0, head: /** @type {number | "mean"} */ ("mean"), step: 0, inside: "" });
const SHARED_KEYS = [...DECODING_KEYS, ...Object.keys(ATTENTION_DEFAULTS)];

/**
 * The schema for these views: the decoding defaults are the server's (its request schema's),
 * each view's keys default as the view says, the attention view state as above.
 * @param {View[]} views the first is the page's default view
 * @param {Pick<PageData, "decoding_defaults" | "seed_text">} page
 * @returns {Schema}
 */
export function schemaOf(views, page) {
  /** @type {Record<string, any>} */
  const defaults = { mode: views[0].name };
  for (const key of DECODING_KEYS) defaults[key] = page.decoding_defaults[key];
  /** @type {Record<string, string[]>} */
  const keys = {};
  /** @type {Record<string, (value: any) => boolean>} */
  const valid = {};
  for (const view of views) {
    const own = view.keys(page);
    Object.assign(defaults, own);
    Object.assign(valid, view.valid ?? {});
    keys[view.name] = [...Object.keys(own), ...SHARED_KEYS];
  }
  return { views, defaults: { ...defaults, ...ATTENTION_DEFAULTS, view: views[0].sites[0] }, keys,
    valid };
}

/**
 * The decoding settings of a state, as the API takes them.
 * @param {Record<string, any>} state @returns {Record<string, any>}
 */
export function decodingOf(state) {
  return Object.fromEntries(DECODING_KEYS.map((key) => [key, state[key]]));
}

/**
 * The view named `name` (the URL's `mode`), or the first view when no view has that name.
 * @param {string | null} name @param {View[]} views @returns {View}
 */
export function viewOf(name, views) {
  return views.find((view) => view.name === name) ?? views[0];
}

/**
 * One URL value as the type of its default; a malformed number falls back to the default.
 * @param {string} key @param {string} raw @param {any} fallback
 */
function parse(key, raw, fallback) {
  if (key === "head") {
    return raw === "mean" ? "mean" : Number.isInteger(Number(raw)) ? Number(raw) : "mean";
  }
  if (typeof fallback === "number") {
    const value = Number(raw);
    return Number.isFinite(value) ? value : fallback;
  }
  if (typeof fallback === "boolean") return raw !== "false";
  return raw;
}

/**
 * State from a query string: the view its `mode` names, then that view's keys and the shared
 * ones; keys of other views are ignored, and unknown or malformed values (or values that fail
 * their view's check) fall back to defaults.
 * The state holds every view's fields, so switching views keeps what was typed in each.
 * @param {string} search @param {Schema} schema @returns {Record<string, any>}
 */
export function fromQuery(search, schema) {
  const params = new URLSearchParams(search);
  const view = viewOf(params.get("mode"), schema.views);
  /** @type {Record<string, any>} */
  const state = { ...schema.defaults, mode: view.name, view: view.sites[0] };
  for (const key of schema.keys[view.name]) {
    const raw = params.get(key);
    if (raw === null) continue;
    const value = parse(key, raw, state[key]);
    if (schema.valid[key]?.(value) ?? true) state[key] = value;
  }
  if (!view.sites.includes(state.view)) state.view = view.sites[0];
  return state;
}

/**
 * Query string of a state: `mode`, what the reader typed (the view's `input`, always), then
 * every other key of the view and the shared keys that differ from their defaults, except the
 * keys the view calls unused in this state.
 * @param {Record<string, any>} state @param {Schema} schema
 */
export function toQuery(state, schema) {
  const view = viewOf(state.mode, schema.views);
  const defaults = { ...schema.defaults, view: view.sites[0] };
  const params = new URLSearchParams({ mode: view.name });
  const unused = view.unused?.(state) ?? [];
  for (const key of schema.keys[view.name]) {
    if (unused.includes(key)) continue;
    if (key === view.input || state[key] !== defaults[key]) params.set(key, String(state[key]));
  }
  return params.toString();
}

/**
 * The fields that decide which answer the server gives: the view, its own keys (but its `live`
 * ones, which follow the screen) and the decoding settings. Kept with a response, as what was
 * asked for it.
 * @param {Record<string, any>} state @param {Schema} schema @returns {Record<string, any>}
 */
export function requestOf(state, schema) {
  const view = viewOf(state.mode, schema.views);
  const live = view.live ?? [];
  const own = schema.keys[view.name].filter((key) => !SHARED_KEYS.includes(key) &&
    !live.includes(key));
  return Object.fromEntries(["mode", ...own, ...DECODING_KEYS].map((key) => [key, state[key]]));
}

/**
 * What the URL should say: the request of the result on screen (`shown`, when there is one),
 * with the live view state (view, layer, head, step). A setting changed but not yet sent, or a
 * request that failed, does not change the URL: the link shares what is shown.
 * @param {Record<string, any>} state @param {Record<string, any> | null} shown
 */
export function urlState(state, shown) {
  return shown ? { ...state, ...shown } : state;
}

/**
 * True when the state asks for what the server pre-computed for the first paint: the default
 * request of the first view (the seed sentence, every setting at its default).
 * @param {Record<string, any>} state @param {Schema} schema
 */
export function isSeedRequest(state, schema) {
  const asked = requestOf(state, schema);
  return state.mode === schema.views[0].name &&
    Object.entries(asked).every(([key, value]) => value === schema.defaults[key]);
}
