// On a patient's page, for the chosen treatment: its record as the clinic wrote it (screening,
// override reason, notes), and the patient's own words: each check-in's note and aftercare
// answers, newest first, a page at a time.

import { pager } from './dom.js';
import { cache, formatDate } from './shared.js';
import { h } from './shared/dom.js';
import { CONTRAINDICATIONS } from './treatment_forms.js';

const AFTERCARE = {
  sunscreen: 'Sunscreen',
  sun_exposure: 'Sun exposure',
  makeup: 'Make-up',
  exercise: 'Exercise',
  hot_shower: 'Hot shower, bath or sauna',
};

const yesNo = (v) => (v === true ? 'Yes' : v === false ? 'No' : 'Not answered');

/** The treatment as recorded: its screening, the reason to treat despite it, its notes. */
export function treatmentRecord(t) {
  const answers = Object.entries(CONTRAINDICATIONS).filter(([code]) => code in t.contraindications);
  const flagged = answers.some(([code]) => t.contraindications[code]);
  return h(
    'section',
    { class: 'panel treatment-record', 'aria-labelledby': 'record-title', 'data-testid': 'treatment-record' },
    h('h2', { id: 'record-title' }, 'Screening and notes'),
    h('h3', {}, 'Contraindication screening'),
    answers.length
      ? h(
          'ul',
          { class: 'screening-list', 'data-testid': 'screening' },
          ...answers.map(([code, label]) =>
            h(
              'li',
              { 'data-code': code, 'data-answer': String(t.contraindications[code]) },
              `${label}: `,
              t.contraindications[code] ? h('strong', { class: 'chip warn' }, 'Yes') : 'No',
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No screening recorded.'),
    flagged || t.override_reason
      ? h('p', { 'data-testid': 'override-reason' }, h('strong', {}, 'Treated despite it because: '), t.override_reason || '—')
      : null,
    h('h3', {}, 'Notes'),
    t.notes ? h('p', { class: 'record-notes', 'data-testid': 'treatment-notes' }, t.notes) : h('p', { class: 'muted' }, 'No notes.'),
  );
}

function checkInItem(c) {
  return h(
    'li',
    { class: 'check-in', 'data-testid': 'check-in', 'data-id': c.id },
    h('h3', {}, `Day ${c.day} · `, h('time', { datetime: c.recorded_at }, formatDate(c.recorded_at, true))),
    c.note ? h('p', { class: 'check-in-note', 'data-testid': 'check-in-note' }, c.note) : h('p', { class: 'muted' }, 'No note.'),
    h(
      'dl',
      { class: 'answers', 'aria-label': 'Aftercare answers', 'data-testid': 'aftercare' },
      ...Object.entries(AFTERCARE).map(([code, label]) =>
        h('div', { 'data-code': code, 'data-answer': yesNo(c.aftercare?.[code]) }, h('dt', {}, label), h('dd', {}, yesNo(c.aftercare?.[code]))),
      ),
    ),
  );
}

/** The patient's check-ins of the treatment, newest first, with their notes and aftercare answers; null when none. */
export async function patientWords(patientId, treatmentId) {
  const list = h('ol', { class: 'check-ins', 'data-testid': 'check-ins' });
  const { more, load } = pager(`/v1/patients/${patientId}/check-ins?treatment_id=${treatmentId}&limit=20`, 'Show earlier check-ins', (items) => {
    list.append(...items.map(checkInItem));
  });
  await load();
  // The page says so already when there is none.
  if (!list.childElementCount) return null;
  return h(
    'section',
    { class: 'patient-words', 'aria-labelledby': 'words-title', 'data-testid': 'patient-words' },
    h('h2', { id: 'words-title', class: 'section-title' }, 'In the patient’s words'),
    h('p', { class: 'muted' }, `Each check-in’s note and aftercare answers, newest first. Times are the clinic’s (${cache.me?.clinic_timezone || 'local'}).`),
    list,
    more,
  );
}
