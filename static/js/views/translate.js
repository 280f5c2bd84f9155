// @ts-check
// The Translate view: the encoder-decoder reads a sentence with its encoder and writes the
// translation, looking back at the source through cross-attention.
import { findMap } from "../heatmap.js";
import { modelFor, sourceLanguageFor, translationModels } from "../models.js";
import { decodingOf } from "../state.js";
import { attentionRowBars } from "../steps.js";
import { drawBars } from "../widgets/bars.js";
import { byId } from "../widgets/dom.js";

/** @type {import("./view.js").View} */
export const translate = {
  name: "translate",
  input: "text",
  keys: (page) => ({ text: page.seed_text, model: "auto" }),
  sites: ["decoder.cross", "encoder.self", "decoder.self"],
  available: (page) => translationModels(page.models).length > 0,

  request: (state, page) => ({
    path: "/api/translate",
    body: {
      text: state.text,
      model: modelFor(state.text, state.model, page.models, page.scripts),
      ...decodingOf(state),
    },
  }),

  /** Sentences in the language the translation reads (the direction chosen, or the script's). */
  examples(state, page) {
    const language = sourceLanguageFor(state.text, state.model, page.models, page.scripts);
    /** @type {string[]} */
    const sentences = page.text.views.translate.examples[language ?? ""] ?? [];
    return sentences.map((sentence) => ({ label: sentence, value: sentence }));
  },

  /** Cross-attention over the source and self-attention over the output so far. */
  stepBars(app, response, row, layer) {
    const cross = findMap(response, "decoder.cross", layer);
    const self = findMap(response, "decoder.self", layer);
    if (cross) drawBars(byId("cross-plot"), attentionRowBars(cross, app.state.head, row));
    if (self) drawBars(byId("self-plot"), attentionRowBars(self, app.state.head, row));
  },
};
