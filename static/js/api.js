// @ts-check
/** @typedef {import("./types.js").TranslateResponse} TranslateResponse */
/** @typedef {import("./types.js").HeadScores} HeadScores */

/**
 * POST a JSON body to /api/translate or /api/generate. Throws an Error whose message is the
 * server's `detail`, in words.
 * @param {string} path @param {Record<string, any>} body @returns {Promise<TranslateResponse>}
 */
export async function postJson(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new Error("The server cannot be reached. Is attnscope still running?");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const retry = response.headers.get("Retry-After");
    const detail = data.detail ??
      `the server answered ${response.status} ${response.statusText} without saying why; ` +
      "try again, and if it goes on, look at the server's log";
    throw new Error(retry ? `${detail} (try again in ${retry} s)` : detail);
  }
  return data;
}

/** GET /api/head-scores for a GPT. @param {string} model @returns {Promise<HeadScores>} */
export async function headScores(model) {
  const response = await fetch(`/api/head-scores?${new URLSearchParams({ model })}`);
  if (!response.ok) throw new Error("the head scores could not be loaded");
  return response.json();
}

/** GET /api/positional-encoding. @returns {Promise<{d_model: number, values: number[][]}>} */
export async function positionalEncoding(length, model) {
  const query = new URLSearchParams({ length: String(length), model });
  const response = await fetch(`/api/positional-encoding?${query}`);
  if (!response.ok) throw new Error("positional encoding unavailable");
  return response.json();
}
