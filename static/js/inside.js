// @ts-check
// Pure functions for "Inside a head" and the logit lens: from /api/inside and /api/logit-lens
// responses to Plotly figures and labels (no DOM here).
import { escapeLabel, shownToken } from "./escape.js";
import { COLORSCALE, MASKED_COLOUR, hover, tokenAxis } from "./heatmap.js";
import { format } from "./text.js";

/** @typedef {import("./types.js").InsideResponse} InsideResponse */
/** @typedef {import("./types.js").LogitLensResponse} LogitLensResponse */
/** @typedef {import("./types.js").TranslateResponse} TranslateResponse */

/**
 * The panel's words (templates/inside.html `text`), with the head view's `thinned` template.
 * @typedef {{dimension: string, value: string, key: string, row: string, thinned: string,
 *            rows: Record<string, string>}} InsideWords
 */
/** The lens strip's words (templates/inside.html `text.lens`).
 * @typedef {{embedding: string, layer: string}} LensWords */
/** One cell of a heatmap: a site, a head of it and a query row of it.
 * @typedef {{site: string, head: number, query: number}} Cell */

/** Signed numbers get a diverging scale centred on 0, as the positional encoding does. */
const SIGNED = "RdBu";
/** Rows with at most this many keys print their numbers in the cells too. */
const PRINTED_KEYS = 16;
const FRAME_COLOUR = "#c98f00";

/** A token as a Plotly label: shown (↵ for a line break), then escaped. @param {string} token */
const label = (token) => escapeLabel(shownToken(token));

/** The URL's `inside` value of a cell: `site/head/query`. @param {Cell} cell */
export function cellKey(cell) {
  return `${cell.site}/${cell.head}/${cell.query}`;
}

/**
 * The cell a URL's `inside` value names, if the response on screen has that site, head and
 * query row; null otherwise (an old link, another sentence).
 * @param {string} value @param {TranslateResponse | null} response @returns {Cell | null}
 */
export function cellOf(value, response) {
  const match = /^((?:encoder|decoder)\.\d+\.(?:self|cross))\/(\d+)\/(\d+)$/.exec(value ?? "");
  const map = match && response?.attention.find((m) => m.name === match[1]);
  if (!match || !map) return null;
  const [head, query] = [Number(match[2]), Number(match[3])];
  if (head >= map.weights.length || query >= map.query_tokens.length) return null;
  return { site: map.name, head, query };
}

/** The largest magnitude among numbers (nulls skipped), never 0. @param {(number | null)[]} values */
function bound(values) {
  return values.reduce((top, v) => (v === null ? top : Math.max(top, Math.abs(v))), 1e-9);
}

/**
 * Vectors as the rows of one heatmap: dimensions on x, signed colours centred on 0; hover
 * names the row, the dimension and the value.
 * @param {{label: string, values: number[]}[]} rows @param {InsideWords} words
 * @param {[number, number]} [frame] dimensions [from, to) of the first row to frame (a head's)
 */
export function vectorFigure(rows, words, frame) {
  const width = Math.max(...rows.map((row) => row.values.length));
  const top = bound(rows.flatMap((row) => row.values));
  return {
    data: [{
      type: "heatmap",
      z: rows.map((row) => row.values),
      x: Array.from({ length: width }, (_, i) => i),
      y: rows.map((_, i) => i),
      customdata: rows.map((row) => row.values.map(() => escapeLabel(row.label))),
      colorscale: SIGNED,
      zmin: -top,
      zmax: top,
      showscale: false,
      hovertemplate: hover([[words.row, "%{customdata}"], [words.dimension, "%{x}"],
        [words.value, "%{z:.4f}"]]),
    }],
    layout: {
      height: 56 + 28 * rows.length,
      margin: { l: 130, r: 10, t: 6, b: 40 },
      xaxis: { title: { text: escapeLabel(words.dimension) }, showgrid: false, zeroline: false },
      yaxis: { tickvals: rows.map((_, i) => i), ticktext: rows.map((row) => escapeLabel(row.label)),
               autorange: "reversed", showgrid: false, zeroline: false },
      shapes: frame ? [{ type: "rect", x0: frame[0] - 0.5, x1: frame[1] - 0.5, y0: -0.5, y1: 0.5,
                         line: { color: FRAME_COLOUR, width: 3 } }] : [],
    },
  };
}

/**
 * One number per key (scores, scaled, masked, softmax) over the key tokens. Masked keys are
 * null, drawn in the masked colour; the softmax uses the head view's scale, 0 to 1.
 * @param {(number | null)[]} values @param {string[]} tokens @param {string} name the row's label
 * @param {InsideWords} words @param {{probs?: boolean, room?: number}} [options]
 */
export function keyRowFigure(values, tokens, name, words, options = {}) {
  const top = bound(values);
  const printed = tokens.length <= PRINTED_KEYS;
  return {
    data: [{
      type: "heatmap",
      z: [values],
      x: tokens.map((_, i) => i),
      y: [0],
      customdata: [tokens.map(label)],
      colorscale: options.probs ? COLORSCALE : SIGNED,
      zmin: options.probs ? 0 : -top,
      zmax: options.probs ? 1 : top,
      showscale: false,
      hoverongaps: false,
      ...(printed ? { texttemplate: "%{z:.2f}", textfont: { size: 10 } } : {}),
      hovertemplate: hover([[words.key, "%{customdata}"], [words.value, "%{z:.4f}"]]),
    }],
    layout: {
      height: 130,
      margin: { l: 130, r: 10, t: 6, b: 70 },
      plot_bgcolor: MASKED_COLOUR,
      xaxis: { ...tokenAxis(tokens, words.key, /** @type {any} */ (words), options.room),
               title: { text: "" } },
      yaxis: { tickvals: [0], ticktext: [escapeLabel(name)], showgrid: false, zeroline: false },
    },
  };
}

/**
 * One row per key (K or V): keys on y, dimensions on x; hover names the key.
 * @param {number[][]} matrix (Tk, Dh) @param {string[]} tokens @param {InsideWords} words
 * @param {number} [room] key labels that fit
 */
export function keyMatrixFigure(matrix, tokens, words, room) {
  const top = bound(matrix.flat());
  return {
    data: [{
      type: "heatmap",
      z: matrix,
      x: (matrix[0] ?? []).map((_, i) => i),
      y: tokens.map((_, i) => i),
      customdata: matrix.map((row, j) => row.map(() => label(tokens[j]))),
      colorscale: SIGNED,
      zmin: -top,
      zmax: top,
      showscale: false,
      hovertemplate: hover([[words.key, "%{customdata}"], [words.dimension, "%{x}"],
        [words.value, "%{z:.4f}"]]),
    }],
    layout: {
      height: Math.min(360, Math.max(150, 70 + 16 * tokens.length)),
      margin: { l: 130, r: 10, t: 6, b: 40 },
      xaxis: { title: { text: escapeLabel(words.dimension) }, showgrid: false, zeroline: false },
      yaxis: { ...tokenAxis(tokens, words.key, /** @type {any} */ (words), room), title: { text: "" },
               autorange: "reversed" },
    },
  };
}

/**
 * Every step's figure, by the key of its box in the template (`inside-<key>`).
 * @param {InsideResponse} r @param {InsideWords} words @param {number} [room] labels that fit
 * @returns {Record<string, {data: any[], layout: any}>}
 */
export function insideFigures(r, words, room) {
  const rows = words.rows;
  /** @param {string} key @param {number[]} values */
  const row = (key, values) => ({ label: rows[key], values });
  const parts = r.token_embedding && r.positional_encoding
    ? [row("token_embedding", r.token_embedding), row("positional_encoding", r.positional_encoding)]
    : [];
  const start = r.head * r.d_head;
  return {
    x: vectorFigure([...parts, row("x", r.x)], words),
    q: vectorFigure([row("q", r.q)], words),
    k: keyMatrixFigure(r.k, r.key_tokens, words, room),
    scores: keyRowFigure(r.scores, r.key_tokens, rows.scores, words, { room }),
    scaled: keyRowFigure(r.scaled, r.key_tokens, rows.scaled, words, { room }),
    masked: keyRowFigure(r.masked, r.key_tokens, rows.masked, words, { room }),
    probs: keyRowFigure(r.probs, r.key_tokens, rows.probs, words, { room, probs: true }),
    v: keyMatrixFigure(r.v, r.key_tokens, words, room),
    z: vectorFigure([row("z", r.z)], words),
    heads: vectorFigure([row("heads_z", r.heads_z), row("output", r.output)], words,
      [start, start + r.d_head]),
    residual: vectorFigure([row("x", r.x), row("output", r.output), row("residual", r.residual),
      row("norm", r.norm)], words),
    ffn: vectorFigure([row("feed_forward", r.feed_forward),
      row("feed_forward_residual", r.feed_forward_residual),
      row("feed_forward_norm", r.feed_forward_norm)], words),
  };
}

/** A lens layer's name in the page's words. @param {string} layer @param {LensWords} words */
export function layerName(layer, words) {
  const [, index] = layer.split(".");
  return index === "embed" ? words.embedding : format(words.layer, { layer: index });
}

/**
 * The lens strip at step `step`: per layer its most probable token, whether that is the token
 * the step chose, and `first` on the layer from which every layer's top token is the chosen
 * one (where the answer appears).
 * @param {LogitLensResponse} lens @param {number} step @param {LensWords} words
 * @returns {{layer: string, token: string, prob: number, chosen: boolean, first: boolean}[]}
 */
export function lensCells(lens, step, words) {
  const seen = lens.steps[step];
  if (!seen) return [];
  const cells = seen.layers.map((layer) => ({
    layer: layerName(layer.layer, words),
    token: shownToken(layer.top[0]?.token ?? ""),
    prob: layer.top[0]?.prob ?? 0,
    chosen: layer.top[0]?.token === seen.token,
    first: false,
  }));
  let first = cells.length;
  while (first > 0 && cells[first - 1].chosen) first -= 1;
  if (first < cells.length) cells[first].first = true;
  return cells;
}
