// The worklist: what the clinic has to do next. One card per treatment, with its open alerts and
// the patient's notes nobody has read, urgent first and then whoever has waited longest; each card
// says when the patient reported, who they are and how to reach them, and who has taken it; an
// infection alert can be recorded as a complication from it. Below, the patients due to check in
// today who haven't.

import { del, get, post, put } from './api.js';
import { alertRow } from './alerts.js';
import { toast } from './dom.js';
import { LEVELS, cache, callLink, formatDate, me, patientName, symptoms } from './shared.js';
import { h } from './shared/dom.js';
import { complicationForm } from './treatment_forms.js';

function patientLink(p) {
  return h(
    'span',
    { class: 'card-patient' },
    h('a', { href: `#/patients/${p.id}`, 'data-testid': 'card-patient' }, patientName(p, p.id)),
    p.display_name ? h('span', { class: 'muted' }, ` · ${p.external_ref}`) : null,
    p.contact_phone ? callLink(p.contact_phone, 'card-phone') : null,
  );
}

/** Who has the card, with the button to take it (or give it back). */
function assigneeLine(card, myId, refresh) {
  const mine = card.assignee && card.assignee.staff_id === myId;
  const path = `/v1/treatments/${card.treatment_id}/assignee`;
  const button = h(
    'button',
    { type: 'button', 'data-testid': mine ? 'card-release' : 'card-take' },
    mine ? 'Give back' : card.assignee ? 'Take over' : 'Take',
  );
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await (mine ? del(path) : put(path));
      toast(mine ? 'Card given back' : 'Card assigned to you', 'ok');
      refresh();
    } catch (err) {
      toast(err.message, 'error');
      button.disabled = false;
    }
  });
  const who = card.assignee ? (mine ? 'Assigned to you' : `Assigned to ${card.assignee.name}`) : 'Nobody has taken this yet';
  return h('p', { class: 'card-assignee' }, h('span', { 'data-testid': 'card-assignee' }, who), ' ', button);
}

function noteItem(note, refresh) {
  const read = h('button', { type: 'button', 'data-testid': 'note-read' }, 'Mark read');
  read.addEventListener('click', async () => {
    read.disabled = true;
    try {
      await post(`/v1/check-ins/${note.check_in_id}/note-read`);
      toast('Note marked read', 'ok');
      refresh();
    } catch (err) {
      toast(err.message, 'error');
      read.disabled = false;
    }
  });
  return h(
    'li',
    { class: 'note', 'data-testid': 'card-note', 'data-check-in-id': note.check_in_id },
    h('blockquote', {}, note.note),
    h('p', { class: 'muted' }, `Written ${formatDate(note.recorded_at, true)}, day ${note.day}`),
    read,
  );
}

/** "Record as complication", prefilled from the card's infection alert: the form opens in `place`. */
function complicationButton(c, place, refresh) {
  const button = h('button', { type: 'button', 'data-testid': 'card-complication' }, 'Record as complication…');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const treatment = await get(`/v1/treatments/${c.treatment_id}`);
      const onset = new Intl.DateTimeFormat('en-CA', { timeZone: cache.me?.clinic_timezone }).format(new Date(c.reported_at));
      const done = () => {
        toast('Complication recorded', 'ok');
        refresh();
      };
      const cancel = () => {
        place.replaceChildren();
        button.disabled = false;
      };
      place.replaceChildren(complicationForm(treatment, { term: 'Skin infection', onset_date: onset }, done, cancel));
    } catch (err) {
      toast(err.message, 'error');
      button.disabled = false;
    }
  });
  return button;
}

function card(c, catalogue, myId, refresh) {
  const level = c.level || 'note';
  return h(
    'li',
    { class: `work-card level-${level}`, 'data-testid': 'work-card', 'data-treatment-id': c.treatment_id, 'data-level': level },
    h(
      'div',
      { class: 'card-head' },
      h('span', { class: `badge level-${level}` }, LEVELS[c.level] || 'Note'),
      patientLink(c.patient),
    ),
    h('p', { class: 'card-reported', 'data-testid': 'card-reported' }, `Reported ${formatDate(c.reported_at, true)} · day ${c.reported_day} after treatment`),
    assigneeLine(c, myId, refresh),
    c.alerts.length ? h('ol', { class: 'alerts', 'aria-label': 'Open alerts' }, ...c.alerts.map((a) => alertRow(a, catalogue, myId, () => refresh(), { phone: false }))) : null,
    c.unread_notes.length ? h('ul', { class: 'notes', 'aria-label': 'Notes not read yet' }, ...c.unread_notes.map((n) => noteItem(n, refresh))) : null,
    ...infection(c, refresh),
  );
}

/** For a card with signs of infection: the button that records it as a complication, and its form's place. */
function infection(c, refresh) {
  if (!c.alerts.some((a) => a.rule === 'infection_signs')) return [];
  const place = h('div', { class: 'card-form' });
  return [h('p', {}, complicationButton(c, place, refresh)), place];
}

function dueList(due) {
  if (!due.length) return h('p', { class: 'panel empty', 'data-testid': 'due-empty' }, 'Everyone due today has checked in.');
  return h(
    'ul',
    { class: 'due', 'data-testid': 'due-today' },
    ...due.map((d) => h('li', { 'data-testid': 'due-row', 'data-treatment-id': d.treatment_id }, patientLink(d.patient), h('span', { class: 'muted' }, ` · day ${d.day}`))),
  );
}

export async function worklistScreen(refresh) {
  document.title = 'Worklist · Aftercare';
  const [work, catalogue, who] = await Promise.all([get('/v1/worklist'), symptoms(), me()]);
  // The cards carry their patients: no request per patient for the alerts' rows.
  for (const c of work.cards) if (!cache.patients.get(c.patient.id)) cache.patients.set(c.patient.id, c.patient);
  const cards = work.cards.map((c) => card(c, catalogue, who.user_id, refresh));
  return h(
    'section',
    { class: 'screen', 'data-testid': 'worklist-screen' },
    h('div', { class: 'screen-head' }, h('h1', {}, 'Worklist'), h('p', { class: 'muted' }, 'Urgent first, then whoever has waited longest. Times are the clinic’s.')),
    cards.length ? h('ol', { class: 'work-cards', 'data-testid': 'worklist-cards' }, ...cards) : h('p', { class: 'panel empty', 'data-testid': 'worklist-empty' }, 'Nothing to do: no open alerts and no unread notes.'),
    h('h2', {}, 'Due today, not checked in yet'),
    dueList(work.due_today),
  );
}
