// @ts-check
// Which loaded model answers: pure functions of the server's model list and script patterns.

/** @typedef {import("./types.js").ModelInfo} ModelInfo */

/**
 * The language of a text by its script: the first language whose pattern it contains, in the
 * server's order (Han before Latin, so a Chinese sentence with a Latin name is Chinese). A text
 * with none of them (digits, punctuation) is taken as the last language listed.
 * @param {string} text @param {Record<string, string>} scripts language -> regex source
 * @returns {string | null} null when there are no patterns
 */
export function languageOf(text, scripts) {
  const languages = Object.keys(scripts);
  return languages.find((language) => new RegExp(scripts[language]).test(text)) ??
    languages[languages.length - 1] ?? null;
}

/** The models the direction select offers: translation only. @param {ModelInfo[]} models */
export function translationModels(models) {
  return models.filter((m) => m.architecture === "encoder-decoder");
}

/**
 * The translation model reading `language`, if one is loaded.
 * @param {ModelInfo[]} models @param {string | null} language @returns {ModelInfo | undefined}
 */
export function translatorFrom(models, language) {
  return translationModels(models).find((m) => m.source_language === language);
}

/**
 * The model to translate with: the one chosen, or for "auto" the translation model whose source
 * language is the text's script; null when none reads it (the server then uses its default).
 * @param {string} text @param {string} chosen a model name or "auto"
 * @param {ModelInfo[]} models @param {Record<string, string>} scripts
 * @returns {string | null}
 */
export function modelFor(text, chosen, models, scripts) {
  if (chosen !== "auto") return chosen;
  return translatorFrom(models, languageOf(text, scripts))?.name ?? null;
}

/**
 * The source language a translation of `text` reads: the chosen model's, or the script's.
 * @param {string} text @param {string} chosen @param {ModelInfo[]} models
 * @param {Record<string, string>} scripts
 */
export function sourceLanguageFor(text, chosen, models, scripts) {
  if (chosen === "auto") return languageOf(text, scripts);
  return models.find((m) => m.name === chosen)?.source_language ?? null;
}

/**
 * The GPT view's model: the first decoder-only model of stage `base` (or of none), if one is
 * loaded; the stages trained from it (sft, rlhf, the reward model) are the stages view's.
 * @param {ModelInfo[]} models
 */
export function gptModel(models) {
  return models.find((m) => m.architecture === "decoder-only" && (m.stage ?? "base") === "base")
    ?.name ?? null;
}
