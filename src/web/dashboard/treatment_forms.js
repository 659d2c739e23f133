// The front desk's forms on a patient's page: record a treatment (with its contraindication
// screening), a complication, an outcome; and the treatment's complications and outcomes so far.
// Each form shows the API's errors beside their fields, the rest in its own error line.

import { get, post } from './api.js';
import { opener, toast } from './dom.js';
import { field as formField, group, refusal, showErrors } from './forms.js';
import { cache, formatDate, humanize } from './shared.js';
import { h } from './shared/dom.js';

// ---------------------------------------------------------------------------------------------
// The domain's words (docs/domain.md)

export const CONTRAINDICATIONS = {
  active_acne: 'Active acne in the area',
  skin_infection: 'Active skin infection in the area, cold sores included',
  eczema_psoriasis: 'Eczema or psoriasis flare in the area',
  keloid_history: 'History of keloid scars',
  bleeding_disorder: 'Blood-clotting disorder, or anticoagulant medication',
  pregnancy: 'Pregnancy or breastfeeding',
  skin_allergy: 'Skin allergies or sensitivities (metal allergy included)',
  diabetes: 'Diabetes (needs medical advice first)',
};
export const CTCAE_GRADES = {
  1: 'Mild: no intervention',
  2: 'Moderate: local or non-invasive intervention',
  3: 'Severe or medically significant',
  4: 'Life-threatening',
  5: 'Death',
};
export const AE_OUTCOMES = {
  ongoing: 'Ongoing',
  recovering: 'Recovering',
  resolved: 'Resolved',
  resolved_with_sequelae: 'Resolved with sequelae',
  unknown: 'Unknown',
};
export const GAIS = { 3: 'Very much improved', 2: 'Much improved', 1: 'Improved', 0: 'No change', '-1': 'Worse' };
export const GOODMAN_BARON = { 1: 'Macular', 2: 'Mild', 3: 'Moderate', 4: 'Severe' };
const AREAS = ['face', 'neck', 'chest', 'hands', 'scalp', 'body'];

// ---------------------------------------------------------------------------------------------
// The clinic's wall clock: forms take dates and times as the clinic's, where days are counted

const tz = () => cache.me?.clinic_timezone || Intl.DateTimeFormat().resolvedOptions().timeZone;

/** An instant as the clinic's wall clock, 'YYYY-MM-DDTHH:MM'. */
function wallClock(date) {
  const f = new Intl.DateTimeFormat('en-GB', { timeZone: tz(), hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  const p = Object.fromEntries(f.formatToParts(date).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/** The clinic's wall-clock time 'YYYY-MM-DDTHH:MM' as an instant (ISO, UTC). */
function fromWallClock(local) {
  const wanted = Date.parse(`${local}:00Z`);
  let t = wanted;
  // The zone's offset at the instant, twice: once more settles a change of offset (DST).
  for (let i = 0; i < 2; i += 1) t = wanted - (Date.parse(`${wallClock(new Date(t))}:00Z`) - t);
  return new Date(t).toISOString();
}

const clinicToday = () => wallClock(new Date()).slice(0, 10);

/** A date ('YYYY-MM-DD') as words, whatever the zone. */
const plainDate = (d) => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${d}T00:00:00Z`));

// ---------------------------------------------------------------------------------------------
// Fields named by the API's field names, and the API's errors beside them

let forms = 0;

/** A labelled control; `name` is the API's field, `short` what its errors start with. */
function field(name, short, label, control, hint) {
  const { node } = formField(control.id, name, label, control, { hint });
  node.dataset.short = short;
  return node;
}

/** A yes/no question as a group of two radio buttons. */
function yesNo(prefix, name, short, legend) {
  const id = `${prefix}-${name.replace('.', '-')}`;
  const radio = (value, word) =>
    h('label', { class: 'radio' }, h('input', { type: 'radio', name, value, id: `${id}-${value}`, 'data-testid': `${name}-${word.toLowerCase()}` }), word);
  return group(id, name, legend, h('div', { class: 'radios' }, radio('false', 'No'), radio('true', 'Yes')), { class: 'yes-no', role: 'radiogroup', 'data-short': short });
}

/** An error beside its field starts with the field's short name: "The term is required." */
const say = (messages, box) => messages.map((m) => `${box.dataset.short} ${m}.`).join(' ');

/**
 * A form of the front desk: `fields` inside, a submit and a cancel button. On submit, `read()`
 * gives the body, or the local errors; `send(body)` stores it; `onDone(record)` follows.
 */
function deskForm({ testid, title, fields, submitLabel, read, send, onDone, onCancel }) {
  const line = h('p', { class: 'form-error', role: 'alert', 'data-testid': `${testid}-error` });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': `${testid}-submit` }, submitLabel);
  const cancel = onCancel ? h('button', { type: 'button', onclick: onCancel }, 'Cancel') : null;
  const titleId = `${testid}-title-${++forms}`;
  const form = h(
    'form',
    { class: 'desk-form panel', 'data-testid': testid, novalidate: true, 'aria-labelledby': titleId },
    h('h2', { id: titleId }, title),
    fields,
    line,
    h('div', { class: 'form-buttons' }, submit, cancel),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const { body, errors } = read(form);
    if (errors.length) return showErrors(form, line, errors, { say });
    submit.disabled = true;
    try {
      const record = await send(body);
      showErrors(form, line, []);
      onDone(record);
    } catch (err) {
      const errors = refusal(err);
      showErrors(form, line, errors, { say, lead: errors.length ? 'Nothing was recorded.' : '', fallback: err.message });
    }
    submit.disabled = false;
  });
  return form;
}

/** A form's value of `name`: the control's value, a radio group's choice, or '' for none. */
function valueOf(form, name) {
  const controls = [...form.elements].filter((c) => c.name === name);
  if (controls.length && controls[0].type === 'radio') return controls.find((c) => c.checked)?.value ?? '';
  return controls.length ? controls[0].value.trim() : '';
}

/** Optional free text: left out of the body when empty (the API refuses blank text). */
const text = (form, name) => valueOf(form, name) || undefined;

function requireAll(form, names) {
  return names.filter((n) => valueOf(form, n) === '').map((field) => ({ field, message: 'is required' }));
}

function options(map, blank) {
  return [blank ? h('option', { value: '' }, blank) : null, ...Object.entries(map).map(([value, label]) => h('option', { value }, label))];
}

const textarea = (id, name, max) => h('textarea', { id, name, rows: 3, maxlength: max });

// ---------------------------------------------------------------------------------------------
// Record a treatment

/**
 * The "Record a treatment" form for the patient: protocol, date and time, needle depth, areas,
 * session number, the contraindication screening and, when a condition is present, the reason to
 * treat all the same; notes. `protocols` is the clinic's (a Map by id); `protocolId` preselects one.
 */
export function treatmentForm(patientId, protocols, protocolId, onDone, onCancel) {
  const p = `tf${++forms}`;
  const protocolSelect = h('select', { id: `${p}-protocol`, name: 'protocol_id', required: true }, ...options(Object.fromEntries([...protocols.values()].map((x) => [x.id, x.name])), 'Choose a protocol'));
  protocolSelect.value = protocolId || (protocols.size === 1 ? [...protocols.keys()][0] : '');
  const depth = h('input', { id: `${p}-depth`, name: 'needle_depth_mm', type: 'number', inputmode: 'decimal', min: 0.05, max: 3, step: 0.05 });
  const areaBoxes = AREAS.map((a) => h('label', { class: 'radio' }, h('input', { type: 'checkbox', name: 'areas', value: a }), humanize(a)));
  const areas = group(`${p}-areas`, 'areas', 'Areas treated', h('div', { class: 'radios' }, ...areaBoxes), { class: 'yes-no', role: 'group', 'data-short': 'Areas' });
  // The protocol's needle depth and areas, to change where this session differed.
  const fromProtocol = () => {
    const chosen = protocols.get(protocolSelect.value);
    if (!chosen) return;
    depth.value = String(chosen.needle_depth_mm);
    for (const box of areas.querySelectorAll('input')) box.checked = chosen.areas.includes(box.value);
  };
  protocolSelect.addEventListener('change', fromProtocol);
  fromProtocol();

  const reason = field('override_reason', 'The reason', 'Reason to treat despite the contraindication', textarea(`${p}-override`, 'override_reason', 2000), 'Required when any condition is yes.');
  reason.hidden = true;
  const screening = h(
    'fieldset',
    { class: 'screening' },
    h('legend', {}, 'Contraindication screening'),
    h('p', { class: 'hint' }, 'Ask about each; treating despite a yes needs a reason.'),
    h('div', { class: 'screening-questions' }, ...Object.entries(CONTRAINDICATIONS).map(([code, label]) => yesNo(p, `contraindications.${code}`, label, label))),
    reason,
  );
  screening.addEventListener('change', () => {
    reason.hidden = !screening.querySelector('input[value=true]:checked');
  });

  const read = (form) => {
    const contraindications = {};
    for (const code of Object.keys(CONTRAINDICATIONS)) {
      const answer = valueOf(form, `contraindications.${code}`);
      // An unanswered question is left out: the API names it.
      if (answer) contraindications[code] = answer === 'true';
    }
    const when = valueOf(form, 'performed_at');
    const depthValue = valueOf(form, 'needle_depth_mm');
    const session = valueOf(form, 'session_number');
    return {
      errors: requireAll(form, ['protocol_id', 'performed_at']),
      body: {
        protocol_id: valueOf(form, 'protocol_id'),
        performed_at: when ? fromWallClock(when) : undefined,
        needle_depth_mm: depthValue === '' ? undefined : Number(depthValue),
        areas: [...form.querySelectorAll('input[name=areas]:checked')].map((b) => b.value),
        session_number: session === '' ? undefined : Number(session),
        contraindications,
        override_reason: reason.hidden ? undefined : text(form, 'override_reason'),
        notes: text(form, 'notes'),
      },
    };
  };
  return deskForm({
    testid: 'treatment-form',
    title: 'Record a treatment',
    submitLabel: 'Record the treatment',
    fields: [
      field('protocol_id', 'The protocol', 'Protocol', protocolSelect),
      field('performed_at', 'The date and time', 'Date and time', h('input', { id: `${p}-when`, name: 'performed_at', type: 'datetime-local', required: true, value: wallClock(new Date()) }), `The clinic’s time (${tz()}).`),
      field('needle_depth_mm', 'The needle depth', 'Needle depth (mm)', depth, 'The protocol’s, unless this session differed.'),
      areas,
      field('session_number', 'The session number', 'Session number', h('input', { id: `${p}-session`, name: 'session_number', type: 'number', inputmode: 'numeric', min: 1, max: 50, step: 1 }), 'Leave empty for the next of the series.'),
      screening,
      field('notes', 'The notes', 'Notes (the patient can read them too)', textarea(`${p}-notes`, 'notes', 10000)),
    ],
    read,
    send: (body) => post(`/v1/patients/${patientId}/treatments`, body),
    onDone,
    onCancel,
  });
}

// ---------------------------------------------------------------------------------------------
// Record a complication; record an outcome

function treatmentName(treatment) {
  return `the treatment of ${formatDate(treatment.performed_at)} (session ${treatment.session_number})`;
}

/**
 * The "Record a complication" form for `treatment` (as `GET /v1/treatments/{id}` gives it), with
 * `prefill` ({term, onset_date 'YYYY-MM-DD', grade, serious, outcome, notes}, each optional)
 * filled in: so an alert's screen can offer "record as complication". Returns the form, for the
 * caller to place; `onDone(adverseEvent)` follows a stored one; `onCancel`, when given, adds a
 * Cancel button that calls it.
 */
export function complicationForm(treatment, prefill = {}, onDone = () => {}, onCancel) {
  const p = `cf${++forms}`;
  const treatedOn = wallClock(new Date(treatment.performed_at)).slice(0, 10);
  const term = h('input', { id: `${p}-term`, name: 'term', type: 'text', maxlength: 200, required: true, value: prefill.term || '' });
  const grade = h('select', { id: `${p}-grade`, name: 'grade', required: true }, ...options(Object.fromEntries(Object.entries(CTCAE_GRADES).map(([g, words]) => [g, `${g} · ${words}`])), 'Choose a grade'));
  grade.value = prefill.grade ? String(prefill.grade) : '';
  const serious = h('input', { id: `${p}-serious`, name: 'serious', type: 'checkbox', checked: !!prefill.serious, 'aria-describedby': `${p}-serious-error` });
  const onset = h('input', { id: `${p}-onset`, name: 'onset_date', type: 'date', required: true, min: treatedOn, max: clinicToday(), value: prefill.onset_date || clinicToday() });
  const outcome = h('select', { id: `${p}-outcome`, name: 'outcome', required: true }, ...options(AE_OUTCOMES, 'Choose its course so far'));
  outcome.value = prefill.outcome || '';
  const notes = textarea(`${p}-notes`, 'notes', 10000);
  notes.value = prefill.notes || '';
  return deskForm({
    testid: 'complication-form',
    title: `Record a complication of ${treatmentName(treatment)}`,
    submitLabel: 'Record the complication',
    fields: [
      field('term', 'The term', 'Term', term, 'For example “post-inflammatory hyperpigmentation”.'),
      field('grade', 'The grade', 'CTCAE grade', grade),
      h('div', { class: 'field inline', 'data-field': 'serious', 'data-short': 'Serious' }, serious, h('label', { for: serious.id }, 'Serious (hospitalisation, lasting harm, life-threatening or death)'), h('p', { class: 'field-error', id: `${p}-serious-error`, hidden: true })),
      field('onset_date', 'The onset date', 'Onset date', onset),
      field('outcome', 'The outcome', 'Outcome', outcome),
      field('notes', 'The notes', 'Notes', notes),
    ],
    read: (form) => ({
      errors: requireAll(form, ['grade', 'onset_date', 'outcome']),
      body: {
        term: valueOf(form, 'term'),
        grade: Number(valueOf(form, 'grade')),
        serious: serious.checked,
        onset_date: valueOf(form, 'onset_date'),
        outcome: valueOf(form, 'outcome'),
        notes: text(form, 'notes'),
      },
    }),
    send: (body) => post(`/v1/treatments/${treatment.id}/adverse-events`, body),
    onDone,
    onCancel,
  });
}

/** The "Record an outcome" form for `treatment`: the clinician's assessment (the API takes the assessor from who signs in). */
export function outcomeForm(treatment, onDone = () => {}, onCancel) {
  const p = `of${++forms}`;
  const treatedOn = wallClock(new Date(treatment.performed_at)).slice(0, 10);
  const gais = h('select', { id: `${p}-gais`, name: 'gais', required: true }, ...options(Object.fromEntries(Object.entries(GAIS).map(([v, w]) => [v, `${v} · ${w}`])), 'Choose'));
  // Object.entries orders integer keys first: put "-1 · Worse" last, as the scale reads.
  gais.append(gais.querySelector('option[value="-1"]'));
  const satisfaction = h('select', { id: `${p}-satisfaction`, name: 'satisfaction', required: true }, h('option', { value: '' }, 'Choose'), ...Array.from({ length: 11 }, (_, i) => h('option', { value: String(10 - i) }, String(10 - i))));
  const gb = h('select', { id: `${p}-gb`, name: 'goodman_baron' }, ...options(Object.fromEntries(Object.entries(GOODMAN_BARON).map(([v, w]) => [v, `${v} · ${w}`])), 'Not graded (not acne scars)'));
  return deskForm({
    testid: 'outcome-form',
    title: `Record an outcome of ${treatmentName(treatment)}`,
    submitLabel: 'Record the outcome',
    fields: [
      field('assessed_on', 'The assessment date', 'Assessed on', h('input', { id: `${p}-on`, name: 'assessed_on', type: 'date', required: true, min: treatedOn, max: clinicToday(), value: clinicToday() })),
      h('p', { class: 'hint' }, 'Assessor: the clinician (you). The patient rates their own in the app.'),
      field('gais', 'The GAIS', 'GAIS (Global Aesthetic Improvement Scale)', gais),
      field('satisfaction', 'The satisfaction', 'Satisfaction (0 to 10)', satisfaction),
      field('goodman_baron', 'The Goodman & Baron grade', 'Goodman & Baron grade, for acne scars', gb),
      field('notes', 'The notes', 'Notes', textarea(`${p}-notes`, 'notes', 2000)),
    ],
    read: (form) => ({
      errors: requireAll(form, ['assessed_on', 'gais', 'satisfaction']),
      body: {
        assessed_on: valueOf(form, 'assessed_on'),
        gais: Number(valueOf(form, 'gais')),
        satisfaction: Number(valueOf(form, 'satisfaction')),
        goodman_baron: valueOf(form, 'goodman_baron') === '' ? undefined : Number(valueOf(form, 'goodman_baron')),
        notes: text(form, 'notes'),
      },
    }),
    send: (body) => post(`/v1/treatments/${treatment.id}/outcomes`, body),
    onDone,
    onCancel,
  });
}

// ---------------------------------------------------------------------------------------------
// On the patient's page


/** "Record a treatment" for the patient's page: its button, and the slot its form opens in. */
export function treatmentAction(patientId, protocols, protocolId) {
  const slot = h('div', {});
  const button = opener('Record a treatment', 'record-treatment', slot, (close) =>
    treatmentForm(
      patientId,
      protocols,
      protocolId,
      (t) => {
        toast('Treatment recorded', 'ok');
        location.hash = `#/patients/${patientId}?treatment=${t.id}`;
      },
      close,
    ),
  );
  return { button, slot };
}

function complicationItem(e) {
  return h(
    'li',
    { 'data-testid': 'complication', 'data-id': e.id },
    h('strong', {}, e.term),
    ` · grade ${e.grade} (${CTCAE_GRADES[e.grade] || '?'})${e.serious ? ' · serious' : ''} · since ${plainDate(e.onset_date)} · ${AE_OUTCOMES[e.outcome] || humanize(e.outcome)}`,
    e.notes ? h('p', { class: 'record-notes' }, e.notes) : null,
  );
}

function outcomeItem(o) {
  return h(
    'li',
    { 'data-testid': 'outcome', 'data-id': o.id },
    h('strong', {}, `${plainDate(o.assessed_on)}, by the ${o.assessor}`),
    ` · GAIS ${o.gais} (${GAIS[o.gais] || '?'}) · satisfaction ${o.satisfaction} of 10`,
    o.goodman_baron ? ` · Goodman & Baron ${o.goodman_baron} (${GOODMAN_BARON[o.goodman_baron]})` : null,
    o.notes ? h('p', { class: 'record-notes' }, o.notes) : null,
  );
}

/** The treatment's complications and outcomes, with the forms to record more. */
export async function followUp(treatment) {
  const [events, outcomes] = await Promise.all([get(`/v1/treatments/${treatment.id}/adverse-events`), get(`/v1/treatments/${treatment.id}/outcomes`)]);
  const eventList = h('ul', { class: 'records', 'data-testid': 'complications' }, ...events.items.map(complicationItem));
  const outcomeList = h('ul', { class: 'records', 'data-testid': 'outcomes' }, ...outcomes.items.map(outcomeItem));
  const noEvents = h('p', { class: 'muted', hidden: events.items.length > 0 }, 'No complications recorded.');
  const noOutcomes = h('p', { class: 'muted', hidden: outcomes.items.length > 0 }, 'No outcomes recorded.');
  const slot = h('div', {});
  const addComplication = opener('Record a complication', 'record-complication', slot, (close) =>
    complicationForm(
      treatment,
      {},
      (e) => {
        eventList.append(complicationItem(e));
        noEvents.hidden = true;
        toast('Complication recorded', 'ok');
        close();
      },
      close,
    ),
  );
  const addOutcome = opener('Record an outcome', 'record-outcome', slot, (close) =>
    outcomeForm(
      treatment,
      (o) => {
        // Another outcome of the same date replaces the earlier one.
        outcomeList.querySelector(`[data-id="${o.id}"]`)?.remove();
        outcomeList.append(outcomeItem(o));
        noOutcomes.hidden = true;
        toast('Outcome recorded', 'ok');
        close();
      },
      close,
    ),
  );
  // One form at a time: opening one closes the other.
  for (const [a, b] of [[addComplication, addOutcome], [addOutcome, addComplication]]) a.addEventListener('click', () => b.setAttribute('aria-expanded', 'false'));
  return h(
    'section',
    { class: 'follow-up', 'aria-labelledby': 'follow-up-title', 'data-testid': 'follow-up' },
    h('h2', { id: 'follow-up-title', class: 'section-title' }, 'Complications and outcomes'),
    h('h3', {}, 'Complications'),
    eventList,
    noEvents,
    h('h3', {}, 'Outcomes'),
    outcomeList,
    noOutcomes,
    h('div', { class: 'form-buttons' }, addComplication, addOutcome),
    slot,
  );
}
