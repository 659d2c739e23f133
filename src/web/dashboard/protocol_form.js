// Setting up a protocol: its name, procedure, needle depth and areas, the series of sessions, the
// days after a treatment on which the patient checks in (and those on which their app asks for a
// photo), and the aftercare instructions their app shows. The API checks every field, and each error it names is shown beside its field; so are the
// check-in days the form could not read.

import { post } from './api.js';
import { field as formField, group, refusal, sentence, showErrors } from './forms.js';
import { PROCEDURES, humanize } from './shared.js';
import { h } from './shared/dom.js';

const AREAS = ['face', 'neck', 'chest', 'hands', 'scalp', 'body'];

/** The API's schedule when a protocol names none, as a clinician would write it. */
const DEFAULT_DAYS = '0-14, 21, 28';
const LAST_DAY = 365;

/**
 * Check-in days as typed: whole numbers separated by commas (or spaces), and ranges such as
 * `0-14` for every day of them. `{ days }`, in the order typed, or `{ error }` naming the part
 * that is not a day. The API sorts them, drops repeats and checks the rest.
 */
export function parseCheckInDays(text) {
  const parts = text
    .replace(/\s*[-–]\s*/g, '-')
    .split(/[\s,;]+/)
    .filter(Boolean);
  if (!parts.length) return { error: 'must name at least one day' };
  const days = [];
  for (const part of parts) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!range) return { error: `“${part}” is not a day: write whole numbers separated by commas, such as 0, 1, 2, 7, 14` };
    const first = Number(range[1]);
    const last = range[2] === undefined ? first : Number(range[2]);
    if (last > LAST_DAY) return { error: `days must be from 0 to ${LAST_DAY}` };
    if (first > last) return { error: `“${part}” runs backwards: write the earlier day first` };
    for (let d = first; d <= last; d += 1) days.push(d);
  }
  return { days };
}

/** A field of the form; its control has the test id `protocol-{name}`. */
function field(name, label, control, hint) {
  control.setAttribute('data-testid', `protocol-${name}`);
  return formField(`protocol-${name}`, name, label, control, { hint, errorTestid: `protocol-${name}-error` });
}

const text = (attrs = {}) => h('input', { type: 'text', autocomplete: 'off', ...attrs });

/**
 * The "New protocol" form. `onDone(protocol)` gets the stored protocol; `onCancel`, the Cancel
 * button. Returns the form, for the caller to place.
 */
export function protocolForm({ onDone, onCancel }) {
  const procedure = h('select', {}, h('option', { value: '' }, 'Choose a procedure'), ...Object.entries(PROCEDURES).map(([value, label]) => h('option', { value }, label)));
  const areaBoxes = AREAS.map((a) => h('input', { type: 'checkbox', id: `protocol-area-${a}`, value: a, 'data-testid': `protocol-area-${a}` }));
  const areas = group(
    'protocol-areas',
    'areas',
    'Areas',
    h('div', { class: 'check-row' }, ...areaBoxes.map((box) => h('label', { class: 'check', for: box.id }, box, humanize(box.value)))),
    { role: 'group', errorTestid: 'protocol-areas-error' },
  );
  const instructions = h('textarea', { rows: 5, maxlength: 10000 });
  const fields = {
    name: field('name', 'Name', text({ maxlength: 120 }), 'How the clinic knows it, such as “Face 1.0 mm”; no two alike.'),
    procedure: field('procedure', 'Procedure', procedure),
    needle_depth_mm: field('needle_depth_mm', 'Needle depth (mm)', text({ inputmode: 'decimal' }), 'More than 0, at most 3.'),
    sessions_planned: field('sessions_planned', 'Sessions', text({ inputmode: 'numeric' }), 'In the series, 1 to 20.'),
    interval_days: field('interval_days', 'Days between sessions', text({ inputmode: 'numeric' }), '0 to 365.'),
    check_in_days: field(
      'check_in_days',
      'Check-in days',
      text({ value: DEFAULT_DAYS }),
      'Days after the treatment (day 0) on which the patient checks in, separated by commas, such as 0, 1, 2, 3, 7, 14. A range such as 0-14 is every day of it.',
    ),
    photo_days: field(
      'photo_days',
      'Photo days (optional)',
      text({ placeholder: 'none' }),
      'Days after the treatment on which the patient’s app asks for a photo, such as 0, 3, 7, 28; at most 20. Leave empty for none: a patient may add a photo to any check-in.',
    ),
    aftercare_instructions: field('aftercare_instructions', 'Aftercare instructions (optional)', instructions, 'Shown to the patient in their app after each treatment.'),
  };

  const summary = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'protocol-form-error' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'protocol-save' }, 'Create protocol');
  const form = h(
    'form',
    { class: 'panel desk-form protocol-form', novalidate: true, 'data-testid': 'protocol-form', 'aria-labelledby': 'protocol-form-title' },
    h('h2', { id: 'protocol-form-title' }, 'New protocol'),
    fields.name.node,
    fields.procedure.node,
    areas,
    h('div', { class: 'protocol-numbers' }, fields.needle_depth_mm.node, fields.sessions_planned.node, fields.interval_days.node),
    fields.check_in_days.node,
    fields.photo_days.node,
    fields.aftercare_instructions.node,
    summary,
    h('div', { class: 'form-buttons' }, submit, h('button', { type: 'button', onclick: onCancel }, 'Cancel')),
  );

  const show = (errors, fallback) => showErrors(form, summary, errors, { fallback, say: (messages) => messages.map(sentence).join(' ') });

  /**
   * The body to send, and what the form itself finds wrong: what is missing, what is not a number
   * or not a day. The rest (ranges, lengths, a name in use) is the API's to say.
   */
  const read = () => {
    const errors = [];
    const value = (name) => fields[name].control.value.trim();
    const required = (name) => {
      if (value(name) === '') errors.push({ field: name, message: 'is required' });
      return value(name);
    };
    const whole = (name) => {
      const v = required(name);
      if (v === '') return undefined;
      if (!/^\d+$/.test(v)) errors.push({ field: name, message: 'must be a whole number' });
      return Number(v);
    };
    const depth = required('needle_depth_mm').replace(',', '.');
    if (depth !== '' && !/^(\d+\.?\d*|\.\d+)$/.test(depth)) errors.push({ field: 'needle_depth_mm', message: 'must be a number of millimetres, such as 1.5' });
    required('name');
    required('procedure');
    const chosen = areaBoxes.filter((b) => b.checked).map((b) => b.value);
    if (!chosen.length) errors.push({ field: 'areas', message: 'choose at least one' });
    const days = parseCheckInDays(value('check_in_days'));
    if (days.error) errors.push({ field: 'check_in_days', message: days.error });
    const photoDays = value('photo_days') === '' ? { days: [] } : parseCheckInDays(value('photo_days'));
    if (photoDays.error) errors.push({ field: 'photo_days', message: photoDays.error });
    const body = {
      name: value('name'),
      procedure: value('procedure'),
      needle_depth_mm: Number(depth),
      areas: chosen,
      sessions_planned: whole('sessions_planned'),
      interval_days: whole('interval_days'),
      check_in_days: days.days,
      photo_days: photoDays.days,
      aftercare_instructions: instructions.value.trim(),
    };
    return { body, errors };
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const { body, errors } = read();
    if (errors.length) return show(errors);
    submit.disabled = true;
    let created;
    try {
      created = await post('/v1/protocols', body);
    } catch (err) {
      // A taken name is a conflict (409), not a field error, but it is the name's.
      show(refusal(err, 'name', 'another of the clinic’s protocols has this name'), err.message);
      submit.disabled = false;
      return;
    }
    show([]);
    onDone(created);
  });
  return form;
}
