// @ts-check
import { format } from "./text.js";

/** @typedef {import("./types.js").TranslateResponse} TranslateResponse */
/** @typedef {import("./types.js").HeadScores} HeadScores */

/** The longest Retry-After the page waits out by itself, once, before it shows the 503. */
export const MAX_AUTO_RETRY_S = 30;

/**
 * POST a JSON body to an /api/ route. Throws an Error whose message is the server's `detail`, in
 * words; `words` (the page text's) says what the server could not. A 503 with a Retry-After of at
 * most MAX_AUTO_RETRY_S is retried once by itself after that wait, and `onWait(seconds)` is told
 * first, so the page can say so; a second refusal is thrown like any other.
 * @param {string} path @param {Record<string, any>} body
 * @param {Record<string, string>} words `unreachable`, `no_detail` and `retry` templates
 * @param {(seconds: number) => void} [onWait]
 * @returns {Promise<any>}
 */
export async function postJson(path, body, words, onWait) {
  const first = await post(path, body, words);
  const seconds = Number(first.headers.get("Retry-After"));
  if (first.status === 503 && first.headers.has("Retry-After") && seconds >= 0 &&
      seconds <= MAX_AUTO_RETRY_S) {
    onWait?.(seconds);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    return answerOf(await post(path, body, words), words);
  }
  return answerOf(first, words);
}

/** One POST; an unreachable server is an Error in words. @returns {Promise<Response>} */
async function post(path, body, words) {
  try {
    return await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new Error(words.unreachable);
  }
}

/** The response's JSON, or an Error with the server's detail. @param {Response} response */
async function answerOf(response, words) {
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
