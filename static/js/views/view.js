// @ts-check
// The interface every view of the page follows (Translate, GPT, and the views still to come).
// A view is one module exporting one object: its pure part (name, URL keys, attention sites,
// API request, examples) is what state.js and node's tests use; its DOM part (enter, answered,
// render, stepBars) is what main.js calls. Its words and its own panels live in its template
// part (templates/views/<name>.html), whose elements carry data-only="<name>".
//
// Adding a view: a module here exporting a View, listed in views/index.js, and a template part
// listed in templates/index.html.

/** @typedef {import("../types.js").ModelInfo} ModelInfo */
/** @typedef {import("../types.js").Limits} Limits */
/** @typedef {import("../types.js").LearningLimits} LearningLimits */
/** @typedef {import("../types.js").DecodingDefaults} DecodingDefaults */
/** @typedef {import("../types.js").TranslateResponse} TranslateResponse */
/** @typedef {import("../types.js").GenerateResponse} GenerateResponse */
/** @typedef {import("../types.js").Site} Site */

/**
 * The page's words, from the template's page-text JSON: `common` for every view (templates,
 * and `plot`, the figures' words), `views[name]` for one (at least submit, output,
 * decoder_title, self_title, empty_answer, examples).
 * @typedef {{common: Record<string, any> & {plot: import("../heatmap.js").PlotWords},
 *            views: Record<string, Record<string, any>>}} PageText
 */

/**
 * What the server gave the page (its initial-data JSON), with the page's words.
 * @typedef {object} PageData
 * @property {ModelInfo[]} models
 * @property {string} seed_text the sentence the server translated for the first paint
 * @property {TranslateResponse | null} response that translation, if it could make it
 * @property {Limits} limits
 * @property {LearningLimits} learning /api/learn's ranges and defaults
 * @property {DecodingDefaults} decoding_defaults
 * @property {Record<string, string>} scripts language -> regex source of its script
 * @property {PageText} text
 */

/**
 * The one state object (main.js): the URL state (every view's keys, the decoding settings, the
 * attention view state) and what is on screen.
 * @typedef {Record<string, any> & {
 *   mode: string, view: Site, layer: number, head: number | "mean", step: number,
 *   response: TranslateResponse | GenerateResponse | null, shown: Record<string, any> | null,
 *   error: string, stale: boolean, busy: boolean, requests: number, player: number | null,
 *   compare: {response: TranslateResponse | null, note: string},
 *   scores: import("../types.js").HeadScores | null, inside: string,
 *   opened: import("../widgets/inside.js").Opened,
 *   lens: import("../widgets/lens.js").LensState}} State
 */

/**
 * What a view's DOM part may use; main.js makes it.
 * @typedef {object} App
 * @property {State} state the one state object
 * @property {PageData} page
 * @property {() => void} render redraw the page from the state
 * @property {() => Promise<void>} submit send the form's request
 */

/**
 * A button's label and what it fills in: the input's `value`, and the other fields it sets
 * (`settings`, by field id); `default` marks what an empty input starts with.
 * @typedef {{label: string, value: string, default?: boolean,
 *            settings?: Record<string, string | number | boolean>}} Example
 */

/**
 * @typedef {object} View
 * @property {string} name the URL's `mode`, the nav link's data-mode, its elements' data-only
 * @property {string} input the state key (and field id) of what the reader types; always in
 *   the URL
 * @property {(page: Pick<PageData, "seed_text">) => Record<string, string | number | boolean>}
 *   keys its own URL keys with their defaults (each but the `live` ones is also the id of its
 *   form field)
 * @property {Record<string, (value: any) => boolean>} [valid] for the own keys whose values are
 *   few: whether a value from the URL is one of them (else the default stands)
 * @property {(state: Record<string, any>) => string[]} [unused] own keys that say nothing in
 *   this state (left out of its URL)
 * @property {string[]} [live] own keys that are view state, not part of the request (which
 *   answer is opened, a step): the URL gives their live value, not the one sent
 * @property {Site[]} sites the attention site kinds it has; the first is its default
 * @property {(page: PageData) => boolean} available whether this server can show it
 * @property {(state: Record<string, any>, page: Pick<PageData, "models" | "scripts">) =>
 *   {path: string, body: Record<string, any>}} request its API request for a state
 * @property {(state: Record<string, any>, page: PageData) => Example[]} examples
 * @property {(app: App) => void} [enter] switched to, or opened with
 * @property {(app: App, id: number) => void} [answered] a new answer to request `id` is shown
 * @property {(app: App, response: TranslateResponse | GenerateResponse) => void} [render] draw
 *   the panels only this view has
 * @property {(app: App, response: TranslateResponse | GenerateResponse, row: number,
 *   layer: number) => void} stepBars the step panel's attention bars, for decoder row `row`
 */

export {};
