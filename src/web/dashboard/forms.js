// The dashboard's forms: fields named as the API names them (`data-field`), and the errors the API
// or the form finds shown beside them, with a summary line above the buttons.

import { humanize } from './shared.js';
import { ApiError } from './shared/api.js';
import { h } from './shared/dom.js';

/** An error as a sentence: the API's "must be 1-120 characters" becomes "Must be 1-120 characters." */
export function sentence(message) {
  const s = String(message).trim();
  return `${s.charAt(0).toUpperCase()}${s.slice(1)}${/[.!?]$/.test(s) ? '' : '.'}`;
}

const errorNode = (id, testid) => h('p', { class: 'field-error', id: `${id}-error`, 'data-testid': testid, hidden: true });

/** A labelled control for the API's field `name`, with its hint and the place for its error, both named by aria-describedby. */
export function field(id, name, label, control, { hint, errorTestid } = {}) {
  control.id = id;
  control.name = name;
  const hintNode = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const error = errorNode(id, errorTestid);
  control.setAttribute('aria-describedby', [hintNode && hintNode.id, error.id].filter(Boolean).join(' '));
  const node = h('div', { class: 'field', 'data-field': name }, h('label', { for: id }, label), control, hintNode, error);
  return { node, control, error };
}

/** Checkboxes or radio buttons under a legend, as the one field `name`; `attrs` go on the fieldset. */
export function group(id, name, legend, content, { errorTestid, ...attrs } = {}) {
  const error = errorNode(id, errorTestid);
  return h('fieldset', { ...attrs, id, 'data-field': name, 'aria-describedby': error.id }, h('legend', {}, legend), content, error);
}

/** The errors ({field, message}) a refused request names; a conflict (409, a name or number in use) is `conflictField`'s. */
export function refusal(err, conflictField, message = err.message) {
  const problem = (err instanceof ApiError && err.problem) || {};
  const errors = Array.isArray(problem.errors) ? [...problem.errors] : [];
  if (conflictField && err instanceof ApiError && err.status === 409) errors.push({ field: conflictField, message });
  return errors;
}

/**
 * Shows `errors` ({field, message}) beside the fields of `form` (`concerns[2]` beside `concerns`):
 * each field's messages as `say` words them, the field marked invalid, the first one focused. In
 * `summary`: `lead`, how many fields need a change and the errors of no field; else `fallback`.
 * No errors clear them all.
 */
export function showErrors(form, summary, errors, { lead = '', fallback = '', say = (messages) => messages.join('; ') } = {}) {
  const boxes = new Map([...form.querySelectorAll('[data-field]')].map((box) => [box.dataset.field, box]));
  const byBox = new Map();
  const rest = [];
  for (const e of errors) {
    const box = boxes.get(e.field) || boxes.get(String(e.field).split(/[.[]/)[0]);
    if (box) byBox.set(box, [...(byBox.get(box) || []), e.message]);
    else rest.push(sentence(e.field === 'body' ? e.message : `${humanize(String(e.field))} ${e.message}`));
  }
  let first = null;
  for (const box of boxes.values()) {
    const messages = byBox.get(box) || [];
    const control = box.querySelector('input, select, textarea');
    const error = box.querySelector(':scope > .field-error');
    error.textContent = say(messages, box);
    error.hidden = !messages.length;
    // A group is marked as one; its first box takes the focus.
    const marked = box.matches('fieldset') ? box : control;
    if (messages.length) marked.setAttribute('aria-invalid', 'true');
    else marked.removeAttribute('aria-invalid');
    if (messages.length) first ||= control;
  }
  const n = byBox.size;
  const count = n ? `${n === 1 ? 'One field needs' : `${n} fields need`} a change before saving.` : '';
  summary.textContent = [lead, count, ...rest].filter(Boolean).join(' ') || fallback;
  first?.focus();
}
