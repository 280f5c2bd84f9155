// @ts-check
// The answer: the spinner while a request runs, the error, the answer and the server's
// notes on the input, and saving it as a file.
import { format } from "../text.js";
import { byId } from "./dom.js";

/**
 * The busy and stale marks, and the error (marked when what is shown answers an earlier
 * request).
 * @param {{busy: boolean, stale: boolean, error: string}} state
 * @param {Record<string, string>} words `stale_error` template
 */
export function renderStatus(state, words) {
  byId("translate-form").classList.toggle("busy", state.busy);
  byId("translate-form").setAttribute("aria-busy", String(state.busy));
  byId("error").textContent = state.stale && state.error
    ? format(words.stale_error, { error: state.error })
    : state.error;
  document.body.classList.toggle("stale", state.stale);
  document.body.classList.toggle("waiting", state.busy);
}

/**
 * The answer (or, when it is empty, `empty` saying why) and the server's remarks on the input:
 * the other language, characters the model never saw.
 * @param {import("../types.js").TranslateResponse | null} response
 * @param {string} empty @param {string} note template with {note}
 */
export function renderAnswer(response, empty, note) {
  const output = byId("translation");
  if (!response) {
    output.textContent = "";
    byId("notes").textContent = "";
    return;
  }
  byId("notes").textContent = (response.notes ?? []).map((n) => format(note, { note: n })).join("\n");
  const blank = !response.translation.trim();
  output.textContent = blank ? empty : response.translation;
  output.classList.toggle("empty", blank);
}

/** Save a blob as a file. @param {string} name @param {Blob} blob */
export function download(name, blob) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}
