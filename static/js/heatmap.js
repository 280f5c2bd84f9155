// @ts-check
// Pure functions from an API response to Plotly traces and layouts (no DOM here).
import { escapeLabel, shownToken } from "./escape.js";
import { format } from "./text.js";

/** @typedef {import("./types.js").AttentionMap} AttentionMap */
/** @typedef {import("./types.js").TranslateResponse} TranslateResponse */

/**
 * The figures' words, from the page text (templates/index.html, `common.plot`): nothing here
 * is in English or Chinese. `thinned` has {title} and {every}, `head` {head}, `layer` {layer};
 * each is escaped before it reaches Plotly.
 * @typedef {{weight: string, query: string, key: string, keys: string, queries: string,
 *            thinned: string, masked: string, mean_of_heads: string, head: string,
 *            layer: string, position: string, dimension: string, value: string}} PlotWords
 */

// Viridis: perceptually uniform and readable with colour-blindness.
export const COLORSCALE = "Viridis";
export const MASKED_COLOUR = "#c9ced6";

/**
 * The attention map of one site, e.g. view "decoder.cross" at layer 1 -> "decoder.1.cross".
 * @param {TranslateResponse} response @param {string} view @param {number} layer
 * @returns {AttentionMap | undefined}
 */
export function findMap(response, view, layer) {
  const [stack, kind] = view.split(".");
  return response.attention.find((m) => m.name === `${stack}.${layer}.${kind}`);
}

/** Layers present for a view. @param {TranslateResponse} response @param {string} view */
export function layersOf(response, view) {
  const [stack, kind] = view.split(".");
  return response.attention.filter((m) => m.stack === stack && m.kind === kind).map((m) => m.layer);
}

/** Decoder self-attention hides the future: those cells are masked, not zero. */
export function isCausal(map) {
  return map.stack === "decoder" && map.kind === "self";
}

/**
 * One head's [query][key] matrix, or the mean over heads when head is "mean".
 * @param {AttentionMap} map @param {number | "mean"} head @returns {number[][]}
 */
export function headMatrix(map, head) {
  if (head !== "mean") return map.weights[head];
  const n = map.weights.length;
  return map.weights[0].map((row, q) =>
    row.map((_, k) => map.weights.reduce((sum, h) => sum + h[q][k], 0) / n),
  );
}

/**
 * A heatmap trace: queries on y, keys on x, numeric axes (so repeated tokens keep their own
 * rows), masked cells as null (drawn in the background colour, not as zero).
 * @param {AttentionMap} map @param {number | "mean"} head @param {PlotWords} words
 * @param {{xaxis?: string, yaxis?: string, showscale?: boolean}} [where]
 */
export function headTrace(map, head, words, where = {}) {
  const matrix = headMatrix(map, head);
  const causal = isCausal(map);
  const z = matrix.map((row, q) => row.map((w, k) => (causal && k > q ? null : w)));
  const customdata = matrix.map((row, q) =>
    row.map((_, k) => [label(map.query_tokens[q]), label(map.key_tokens[k])]),
  );
  return {
    type: "heatmap",
    z,
    x: map.key_tokens.map((_, i) => i),
    y: map.query_tokens.map((_, i) => i),
    customdata,
    zmin: 0,
    zmax: 1,
    colorscale: COLORSCALE,
    showscale: where.showscale ?? true,
    colorbar: { title: { text: escapeLabel(words.weight) }, thickness: 14 },
    hoverongaps: false,
    hovertemplate: hover([[words.query, "%{customdata[0]}"], [words.key, "%{customdata[1]}"],
      [words.weight, "%{z:.4f}"]]),
    xaxis: where.xaxis ?? "x",
    yaxis: where.yaxis ?? "y",
  };
}

/** A token as a Plotly label: shown (↵ for a line break), then escaped. @param {string} token */
const label = (token) => escapeLabel(shownToken(token));

/**
 * A Plotly hovertemplate, one line per [word, Plotly placeholder]: the page's words never hold
 * a `%{...}` placeholder, they are put beside one (and escaped).
 * @param {[string, string][]} lines
 */
export function hover(lines) {
  const shown = lines.map(([word, value]) => `${escapeLabel(word)} ${value}`);
  return `${shown.join("<br>")}<extra></extra>`;
}

/**
 * Numeric axis labelled with (escaped) tokens. With more tokens than `room` labels fit, every
 * k-th is labelled (hovering a cell still names both of its tokens).
 * @param {string[]} tokens @param {string} title
 * @param {PlotWords} words its `thinned` template says so @param {number} [room] labels that fit
 */
export function tokenAxis(tokens, title, words, room = Infinity) {
  const every = Math.max(1, Math.ceil(tokens.length / Math.max(1, room)));
  const labelled = tokens.map((_, i) => i).filter((i) => i % every === 0);
  return {
    title: { text: escapeLabel(every > 1 ? format(words.thinned, { title, every }) : title) },
    tickvals: labelled,
    ticktext: labelled.map((i) => label(tokens[i])),
    tickangle: tokens.length > 8 ? -45 : 0,
    showgrid: false,
    zeroline: false,
  };
}

/**
 * @param {AttentionMap} map @param {number | "mean"} head @param {PlotWords} words
 * @param {{x: number, y: number}} [room] how many token labels fit along each axis
 */
export function headFigure(map, head, words, room = { x: Infinity, y: Infinity }) {
  const headName = head === "mean" ? words.mean_of_heads : format(words.head, { head });
  return {
    data: [headTrace(map, head, words)],
    layout: {
      title: { text: escapeLabel(`${map.name} · ${headName}`) },
      xaxis: { ...tokenAxis(map.key_tokens, words.keys, words, room.x), side: "bottom" },
      yaxis: {
        ...tokenAxis(map.query_tokens, words.queries, words, room.y), autorange: "reversed" },
      plot_bgcolor: MASKED_COLOUR,
      margin: { l: 90, r: 20, t: 40, b: 90 },
      annotations: isCausal(map)
        ? [{ text: escapeLabel(words.masked), xref: "paper", yref: "paper", x: 1, y: 1.06,
             showarrow: false, font: { size: 11 } }]
        : [],
    },
  };
}

/**
 * Every layer × head of one view as thumbnails in a single figure (one WebGL-free plot, so the
 * browser's few WebGL contexts are never exhausted).
 * @param {TranslateResponse} response @param {string} view @param {PlotWords} words
 */
export function modelFigure(response, view, words) {
  const layers = layersOf(response, view);
  const maps = layers.map((layer) => /** @type {AttentionMap} */ (findMap(response, view, layer)));
  const heads = maps[0].weights.length;
  const data = [];
  /** @type {Record<string, any>} */
  const layout = {
    grid: { rows: layers.length, columns: heads, pattern: "independent", xgap: 0.06, ygap: 0.1 },
    margin: { l: 60, r: 10, t: 30, b: 10 },
    plot_bgcolor: MASKED_COLOUR,
    showlegend: false,
    annotations: [],
  };
  maps.forEach((map, row) => {
    for (let head = 0; head < heads; head++) {
      const n = row * heads + head + 1;
      const suffix = n === 1 ? "" : String(n);
      const where = { xaxis: `x${suffix}`, yaxis: `y${suffix}`, showscale: n === 1 };
      data.push({ ...headTrace(map, head, words, where), meta: [map.layer, head] });
      layout[`xaxis${suffix}`] = { showticklabels: false, showgrid: false, zeroline: false };
      layout[`yaxis${suffix}`] = { showticklabels: false, showgrid: false, zeroline: false,
                                   autorange: "reversed" };
      if (row === 0) {
        layout.annotations.push({ text: escapeLabel(format(words.head, { head })),
                                  xref: `x${suffix} domain`, yref: "paper", x: 0.5, y: 1.04,
                                  showarrow: false, font: { size: 11 } });
      }
      if (head === 0) {
        layout.annotations.push({ text: escapeLabel(format(words.layer, { layer: map.layer })),
                                  xref: "paper", yref: `y${suffix} domain`, x: -0.01, y: 0.5,
                                  xanchor: "right", showarrow: false, font: { size: 11 } });
      }
    }
  });
  return { data, layout };
}

/**
 * The sinusoidal table as a heatmap: positions on y, dimensions on x.
 * @param {number[][]} values @param {PlotWords} words
 */
export function positionalFigure(values, words) {
  return {
    data: [{ type: "heatmap", z: values, colorscale: "RdBu", zmin: -1, zmax: 1,
             hovertemplate: hover([[words.position, "%{y}"], [words.dimension, "%{x}"],
               [words.value, "%{z:.3f}"]]) }],
    layout: { xaxis: { title: { text: escapeLabel(words.dimension) } },
              yaxis: { title: { text: escapeLabel(words.position) }, autorange: "reversed" },
              margin: { l: 60, r: 20, t: 10, b: 50 } },
  };
}

/**
 * The part of a GPT's self-attention that does a translation model's cross-attention job: the
 * rows that produce the answer (from the prompt's last token on) over the columns of <s> and the
 * prompt. What the rows give to the answer so far is left out, so a row sums to at most 1.
 * Returned as a "cross" map (nothing in it is masked) to draw beside the real cross-attention.
 * @param {AttentionMap} map a GPT's decoder.{i}.self @param {number} promptLength tokens after <s>
 * @returns {AttentionMap}
 */
export function answerToPrompt(map, promptLength) {
  const rows = map.query_tokens.length - promptLength;
  const keys = promptLength + 1;
  return {
    ...map,
    kind: "cross",
    query_tokens: map.query_tokens.slice(promptLength),
    key_tokens: map.key_tokens.slice(0, keys),
    weights: map.weights.map((matrix) =>
      matrix.slice(promptLength, promptLength + rows).map((row) => row.slice(0, keys))),
  };
}
