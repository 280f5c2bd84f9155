// @ts-check
// A GPT's layer × head score tables (induction on random tokens and on real text, previous
// token); a cell opens its head.
import { format } from "../text.js";

/** @typedef {import("../types.js").HeadScores} HeadScores */

/**
 * The scores by table kind: `induction`, `previous_token`, and `induction_<language>` for each
 * language of `induction_on_text`.
 * @param {HeadScores} scores @returns {Record<string, Record<string, number[]>>}
 */
export function scoresByKind(scores) {
  const onText = Object.entries(scores.induction_on_text ?? {})
    .map(([language, sites]) => [`induction_${language}`, sites]);
  return { induction: scores.induction, previous_token: scores.previous_token,
    ...Object.fromEntries(onText) };
}

/**
 * One table per score kind the scores have; clicking a cell calls `open(layer, head)`.
 * @param {HeadScores} headScores
 * @param {Record<string, {caption: string, name: string}>} kinds score kind -> its words
 * @param {Record<string, string>} words `head`, `layer`, `score_title`, `score_label` templates
 * @param {(layer: number, head: number) => void} open
 * @returns {HTMLTableElement[]}
 */
export function scoreTables(headScores, kinds, words, open) {
  const scores = scoresByKind(headScores);
  return Object.entries(kinds).filter(([kind]) => scores[kind]).map(([kind, { caption, name }]) => {
    const table = document.createElement("table");
    table.className = "score-table";
    table.dataset.kind = kind;
    table.createCaption().textContent = caption;
    const sites = Object.keys(scores[kind]);
    const heads = scores[kind][sites[0]]?.length ?? 0;
    const header = table.createTHead().insertRow();
    header.append(document.createElement("th"));
    for (let h = 0; h < heads; h++) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = format(words.head, { head: h });
      header.append(th);
    }
    const body = table.createTBody();
    for (const site of sites) {
      const layer = Number(site.split(".")[1]);
      const row = body.insertRow();
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = format(words.layer, { layer });
      row.append(th);
      scores[kind][site].forEach((value, head) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "score";
        button.textContent = value.toFixed(2);
        button.title = format(words.score_title, { site, head, score: name, value: value.toFixed(4) });
        button.setAttribute("aria-label",
          format(words.score_label, { layer, head, score: name, value: value.toFixed(2) }));
        // At most 0.75 of the accent colour, so the dark text keeps a contrast of 4.5:1.
        button.style.backgroundColor = `rgba(42, 91, 215, ${(0.75 * Math.min(1, value)).toFixed(3)})`;
        button.addEventListener("click", () => open(layer, head));
        row.insertCell().append(button);
      });
    }
    return table;
  });
}
