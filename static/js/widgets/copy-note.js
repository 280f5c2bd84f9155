// @ts-check
// The step view's sentence on whether the token produced was copied from the demonstrations,
// and by which heads (copying.js finds them); each named head opens in the head view.
import { shownToken } from "../escape.js";
import { format } from "../text.js";

/**
 * The words of the sentence, from the template (English, and `_zh` in Chinese).
 * @typedef {{found: string, found_zh: string, first_layer: string, first_layer_zh: string,
 *            none: string, none_zh: string, open: string}} CopyWords
 */

/**
 * Fill `element`: nothing when the prompt has no demonstrations, the "not copied" line when the
 * token is not among them, else the copying head and the previous-token head, in words, with a
 * button per head. Every token goes in as textContent.
 * @param {HTMLElement} element @param {import("../copying.js").Copy | null} copy
 * @param {string} token the token produced at the step @param {boolean} demonstrations whether
 *   the prompt has any @param {CopyWords} words
 * @param {(layer: number, head: number) => void} open
 */
export function renderCopyNote(element, copy, token, demonstrations, words, open) {
  element.dataset.copied = String(copy !== null);
  if (!demonstrations) {
    element.replaceChildren();
    return;
  }
  if (!copy) {
    element.replaceChildren(sentence(words.none, words.none_zh, { token: shownToken(token) }));
    return;
  }
  const { copier, previous } = copy;
  const values = {
    token: shownToken(copy.token), layer: copier.layer, head: copier.head,
    weight: copier.weight.toFixed(2),
    ...(previous ? {
      prev_layer: previous.layer, prev_head: previous.head,
      prev_weight: previous.weight.toFixed(2), before: shownToken(previous.before),
    } : {}),
  };
  const text = previous ? sentence(words.found, words.found_zh, values)
    : sentence(words.first_layer, words.first_layer_zh, values);
  const heads = [copier, ...(previous ? [previous] : [])].map(({ layer, head }) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "open-head";
    button.textContent = format(words.open, { layer, head });
    button.addEventListener("click", () => open(layer, head));
    return button;
  });
  const row = document.createElement("p");
  row.append(...heads);
  element.replaceChildren(text, row);
}

/**
 * One sentence in English, then in Chinese.
 * @param {string} english @param {string} chinese @param {Record<string, string | number>} values
 */
function sentence(english, chinese, values) {
  const p = document.createElement("p");
  p.className = "copy-sentence";
  const zh = document.createElement("span");
  zh.lang = "zh";
  zh.textContent = format(chinese, values);
  p.append(format(english, values), " ", zh);
  return p;
}
