// The daily check-in: one question per symptom item, answered with one tap on the PRO-CTCAE words,
// the aftercare questions (each may be skipped), and a note. The app gives it its id, keeps it on
// the phone, then sends it; an answer that needs the clinic says so plainly, with its number: as
// the server answers, or at once without a network when the catalogue says the answer alone is
// urgent on that day (`urgent_from_day`, from the server's own rules). A photo may go with it
// (photo.js): asked for first on the protocol's photo days, offered after the note on the others.

import { contactPanel } from './dom.js';
import { AFTERCARE, answerWords, symptomLabel, t } from './i18n.js';
import { add } from './outbox.js';
import { photoPart } from './photo.js';
import { h } from './shared/dom.js';
import { dayOf, photoAskedToday } from './today.js';

function choice(name, value, word, testid) {
  const id = `${name}-${value}`;
  return h('div', { class: 'choice' }, h('input', { type: 'radio', id, name, value, 'data-testid': testid }), h('label', { for: id }, word));
}

function symptomQuestion(item) {
  const words = answerWords(item);
  return h(
    'fieldset',
    { class: `question ${item.kind}`, 'data-testid': 'question', 'data-code': item.code },
    h('legend', {}, symptomLabel(item)),
    h('div', { class: 'choices' }, ...words.map((word, value) => choice(`s-${item.code}`, value, word, `answer-${item.code}-${value}`))),
  );
}

function aftercareQuestion(code) {
  return h(
    'fieldset',
    { class: 'question presence' },
    h('legend', {}, t(`care_${code}`)),
    h('div', { class: 'choices' }, choice(`a-${code}`, 'false', t('no'), `care-${code}-no`), choice(`a-${code}`, 'true', t('yes'), `care-${code}-yes`)),
  );
}

/** The form's answers as a check-in of `treatmentId`, or null when a symptom is left unanswered. */
function collect(form, catalogue, treatmentId) {
  const data = new FormData(form);
  const scores = {};
  for (const item of catalogue) {
    const value = data.get(`s-${item.code}`);
    if (value === null) return null;
    scores[item.code] = Number(value);
  }
  const aftercare = {};
  for (const code of AFTERCARE) {
    const value = data.get(`a-${code}`);
    if (value !== null) aftercare[code] = value === 'true';
  }
  const note = String(data.get('note') || '').trim();
  return { id: crypto.randomUUID(), treatment_id: treatmentId, recorded_at: new Date().toISOString(), scores, aftercare, ...(note ? { note } : {}) };
}

/** Whether an answer of the check-in alone raises an urgent alert on its day, as the catalogue says. */
function redFlag(checkIn, catalogue, treatment) {
  const day = dayOf(checkIn.recorded_at, treatment);
  return catalogue.some((item) => {
    const from = item.answers?.find((a) => a.value === checkIn.scores[item.code])?.urgent_from_day;
    return Number.isInteger(from) && day >= from;
  });
}

function outcome(item, clinic) {
  if (item && item.state === 'sent' && item.contact_clinic) return contactPanel(clinic);
  if (item && item.state === 'waiting' && item.red_flag) return contactPanel(clinic, h('p', { 'data-testid': 'kept-on-phone' }, t('red_flag_waiting')));
  const sent = item && item.state === 'sent';
  const photo = item && item.photo ? { waiting: t('photo_waiting_note'), sent: t('photo_sent_note'), refused: t('photo_refused') }[item.photo.state] : null;
  return h(
    'p',
    { class: `panel ${sent ? 'ok' : 'waiting'}`, role: 'status', 'data-testid': 'check-in-result', 'data-state': item ? item.state : 'waiting', 'data-photo': item?.photo?.state || 'none' },
    sent ? t('thanks') : t('saved_offline'),
    photo ? ` ${photo}` : null,
  );
}

export function checkInScreen({ catalogue, treatment, clinic }) {
  const error = h('p', { class: 'panel error', role: 'alert', hidden: true, 'data-testid': 'check-in-error' }, t('choose_all'));
  const submit = h('button', { type: 'submit', class: 'primary big', 'data-testid': 'check-in-submit' }, t('submit'));
  const result = h('div', { 'aria-live': 'polite' });
  const asked = photoAskedToday(treatment.schedule);
  const photo = photoPart({ asked });
  const form = h(
    'form',
    { 'data-testid': 'check-in-form', novalidate: true },
    asked ? photo.node : null,
    h('p', {}, t('check_in_intro')),
    ...catalogue.map(symptomQuestion),
    h('h2', {}, t('aftercare_questions')),
    ...AFTERCARE.map(aftercareQuestion),
    h('label', { for: 'note', class: 'block' }, t('note')),
    h('p', { id: 'note-hint', class: 'hint', 'data-testid': 'note-who-reads' }, t('note_who_reads')),
    h('textarea', { id: 'note', name: 'note', rows: 3, maxlength: 2000, 'aria-describedby': 'note-hint', 'data-testid': 'check-in-note' }),
    asked ? null : photo.node,
    error,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const checkIn = collect(form, catalogue, treatment.id);
    error.hidden = !!checkIn;
    if (!checkIn) return [...form.querySelectorAll('fieldset[data-code]')].find((f) => !f.querySelector(':checked'))?.querySelector('input').focus();
    const chosen = photo.read();
    if (chosen.error) return;
    submit.disabled = true;
    submit.textContent = t('sending');
    const item = await add(checkIn, redFlag(checkIn, catalogue, treatment), chosen.photo);
    form.hidden = true;
    result.replaceChildren(outcome(item, clinic), h('a', { class: 'button', href: '#/today', 'data-testid': 'back-today' }, t('nav_today')));
    result.querySelector('a, [role=status]')?.focus?.();
  });
  return h('section', { 'aria-labelledby': 'check-in-title' }, h('h1', { id: 'check-in-title' }, t('check_in_title')), form, result);
}
