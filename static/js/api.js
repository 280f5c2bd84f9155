// @ts-check
import { format } from "./text.js";

/** @typedef {import("./types.js").TranslateResponse} TranslateResponse */
/** @typedef {import("./types.js").HeadScores} HeadScores */

/**
 * POST a JSON body to /api/translate or /api/generate. Throws an Error whose message is the
 * server's `detail`, in words; `words` (the page text's) says what the server could not.
 * @param {string} path @param {Record<string, any>} body
 * @param {Record<string, string>} words `unreachable`, `no_detail` and `retry` templates
 * @returns {Promise<TranslateResponse>}
 */
export async function postJson(path, body, words) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new Error(words.unreachable);
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const retry = response.headers.get("Retry-After");
    const detail = data.detail ??
      format(words.no_detail, { status: response.status, status_text: response.statusText });
    throw new Error(retry ? format(words.retry, { detail, seconds: retry }) : detail);
  }
  return data;
}

// The errors below are never shown: the caller says in the page's words what could not load.
// They name the request and its status, for the console.

/** GET /api/head-scores for a GPT. @param {string} model @returns {Promise<HeadScores>} */
export async function headScores(model) {
  const response = await fetch(`/api/head-scores?${new URLSearchParams({ model })}`);
  if (!response.ok) throw new Error(`GET /api/head-scores: ${response.status}`);
  return response.json();
}

/** GET /api/positional-encoding. @returns {Promise<{d_model: number, values: number[][]}>} */
export async function positionalEncoding(length, model) {
  const query = new URLSearchParams({ length: String(length), model });
  const response = await fetch(`/api/positional-encoding?${query}`);
  if (!response.ok) throw new Error(`GET /api/positional-encoding: ${response.status}`);
  return response.json();
}
