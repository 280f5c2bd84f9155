// @ts-check
// The form: reading and writing its fields, its validity, and the settings a strategy uses.
// Every state key of a view and every decoding setting has a field with that id.
import { DECODING_KEYS } from "../state.js";
import { format } from "../text.js";
import { byId } from "./dom.js";

/** @typedef {import("../views/view.js").View} View */
/** @typedef {import("../views/view.js").Example} Example */
/** @typedef {import("../types.js").ModelInfo} ModelInfo */

/** The ids of the fields that hold state: every view's keys, then the decoding settings. */
export function fieldKeys(/** @type {View[]} */ views, /** @type {any} */ page) {
  return [...new Set([...views.flatMap((view) => Object.keys(view.keys(page))), ...DECODING_KEYS])];
}

/**
 * Copy the fields into the state. A number field that is empty or invalid keeps the state's
 * value: what the browser would refuse to send never reaches the state.
 * @param {Record<string, any>} state @param {string[]} keys
 */
export function readControls(state, keys) {
  for (const key of keys) {
    const field = byId(key);
    if (!field) continue;
    if (field.type === "checkbox") {
      state[key] = field.checked;
    } else if (field.type === "number") {
      const value = Number(field.value);
      if (field.value !== "" && field.validity.valid && Number.isFinite(value)) state[key] = value;
    } else {
      state[key] = field.value;
    }
  }
}

/** Copy the state into the fields. @param {Record<string, any>} state @param {string[]} keys */
export function writeControls(state, keys) {
  for (const key of keys) {
    const field = byId(key);
    if (!field) continue;
    if (field.type === "checkbox") field.checked = state[key];
    else field.value = String(state[key]);
  }
}

/**
 * True when every shown field is valid; otherwise the browser says what is wrong with the
 * first one (opening the settings if it is there). Example buttons and Ctrl+Enter come here
 * too, so they cannot send what the form would refuse.
 * @param {HTMLFormElement} form
 */
export function formIsValid(form) {
  const fields = /** @type {any[]} */ ([...form.querySelectorAll("input, select, textarea")]);
  const invalid = fields.find((f) => !f.hidden && f.willValidate && !f.validity.valid);
  if (!invalid) return true;
  const settings = invalid.closest("details");
  if (settings) settings.open = true;
  invalid.reportValidity();
  return false;
}

/**
 * What only some views or strategies use: the view's own input is required (the others' are
 * hidden and not), the attention sites it lacks are disabled, and only the settings the chosen
 * strategy uses can be edited (and are checked).
 * @param {View} view @param {View[]} views
 */
export function renderSettings(view, views) {
  for (const other of views) byId(other.input).required = other === view;
  for (const option of byId("view").options) {
    option.disabled = !view.sites.includes(/** @type {any} */ (option.value));
  }
  const strategy = byId("strategy").value;
  byId("beam_size").disabled = strategy !== "beam";
  for (const id of ["temperature", "top_k", "top_p", "seed"]) byId(id).disabled = strategy !== "sample";
}

/**
 * Fill a <select> with options when they (or their labels) change.
 * @param {HTMLSelectElement} select @param {(string | number)[]} values @param {string[]} labels
 */
export function setOptions(select, values, labels) {
  const wanted = JSON.stringify([values.map(String), labels]);
  if (select.dataset.values !== wanted) {
    select.replaceChildren(...values.map((v, i) => new Option(labels[i], String(v))));
    select.dataset.values = wanted;
  }
}

/**
 * Add one option per translation model to the direction select, after its "auto".
 * @param {HTMLSelectElement} select @param {ModelInfo[]} models @param {string} label template
 */
export function addModelOptions(select, models, label) {
  for (const model of models) {
    select.append(new Option(format(label, {
      name: model.name, source: model.source_language ?? "", target: model.target_language,
    }), model.name));
  }
}

/**
 * One button per example; a click calls `pick` with the example.
 * @param {Example[]} examples @param {(example: Example) => void} pick
 */
export function exampleButtons(examples, pick) {
  return examples.map((example) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = example.label;
    button.addEventListener("click", () => pick(example));
    return button;
  });
}
