// A patient's page: their open alerts, their treatments, and for the one chosen, each symptom's
// chart against the protocol's cohort with its daily figures, the treatment's record, the
// patient's own words, its complications and outcomes, and the patient's photos, by day and side
// by side (photos.js); the front desk records treatments and what followed here. The page prints
// as the patient's recovery record (app.css, "Print").

import { get, getAll } from './api.js';
import { answerLabel, patientChart } from './charts.js';
import { legend } from './dom.js';
import { enrollAction } from './enroll.js';
import { editPatientAction } from './patient_form.js';
import { patientWords, treatmentRecord } from './patient_words.js';
import { forgetPhotos, ofTreatment, photosOf, photosPanel } from './photos.js';
import { LEVELS, answersOf, cache, daysSince, formatDate, humanize, patientName, protocols, roman, ruleName, symptomOf, symptoms } from './shared.js';
import { h } from './shared/dom.js';
import { appLaunchers } from './smart.js';
import { followUp, treatmentAction } from './treatment_forms.js';

function symptomStatus(s) {
  const chips = [];
  // Slower than usual now is a flag; once the symptom resolved or follow-up ended it is history.
  if (s.slower_than_usual) chips.push(h('span', { class: 'chip warn', 'data-testid': 'symptom-slower' }, 'Slower than usual'));
  else if (s.slower_until_day !== null && s.slower_until_day !== undefined) {
    chips.push(h('span', { class: 'chip', 'data-testid': 'symptom-was-slower' }, `Was slower than usual until day ${s.slower_until_day}`));
  }
  if (s.resolved_day !== null && s.resolved_day !== undefined) chips.push(h('span', { class: 'chip ok' }, `Resolved on day ${s.resolved_day}`));
  else if (s.censored_at !== null && s.censored_at !== undefined) chips.push(h('span', { class: 'chip' }, `Not resolved by day ${s.censored_at}`));
  return chips;
}

// The daily figures fold away on screen; on paper they are the record, so printing opens them
// (app.css opens them too, where the browser can style a closed disclosure's content), and closes
// again those it opened.
let openedToPrint = [];
window.addEventListener('beforeprint', () => {
  openedToPrint = [...document.querySelectorAll('details.data:not([open])')];
  for (const d of openedToPrint) d.open = true;
});
window.addEventListener('afterprint', () => {
  for (const d of openedToPrint) d.open = false;
  openedToPrint = [];
});

/** The calendar date of day `day` after a treatment performed at `performedAt`, in the clinic's time zone. */
function dayDate(performedAt, day) {
  const timeZone = cache.me?.clinic_timezone;
  const start = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(performedAt));
  const date = new Date(`${start}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + day);
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' }).format(date);
}

function dataTable(s, answers, performedAt, label) {
  const figure = (v) => (v === null || v === undefined ? '—' : answerLabel(answers, v));
  return h(
    'details',
    { class: 'data', 'data-testid': 'daily-figures' },
    h('summary', {}, 'Daily figures'),
    h(
      'div',
      { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': `${label}: daily figures` },
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h('tr', {}, h('th', { scope: 'col' }, 'Day'), h('th', { scope: 'col' }, 'Date'), h('th', { scope: 'col' }, 'Patient'), h('th', { scope: 'col' }, 'Cohort median'), h('th', { scope: 'col' }, '90% at or below')),
        ),
        h(
          'tbody',
          {},
          ...s.days.map((d) =>
            h('tr', {}, h('td', {}, String(d.day)), h('td', {}, dayDate(performedAt, d.day)), h('td', {}, answerLabel(answers, d.score)), h('td', {}, figure(d.cohort_median)), h('td', {}, figure(d.cohort_p90))),
          ),
        ),
      ),
    ),
  );
}

/** The patient `id`, with the treatment that `params` chooses (else the latest). */
export async function patientScreen(id, params) {
  forgetPhotos();
  const [catalogue, protos, patient, recovery, treatments, open, photos] = await Promise.all([
    symptoms(),
    protocols(),
    get(`/v1/patients/${id}`),
    get(`/v1/patients/${id}/recovery`),
    getAll(`/v1/patients/${id}/treatments`),
    get(`/v1/alerts?status=open&patient_id=${id}&limit=50`),
    photosOf(id).catch(() => null),
  ]);
  cache.patients.set(id, patient);
  const name = patientName(patient, id);
  document.title = `${name} · Aftercare`;
  const details = new Map(treatments.map((t) => [t.id, t]));
  const chosen = recovery.treatments.find((t) => t.treatment_id === params.get('treatment')) || recovery.treatments[0];

  const facts = [
    patient.display_name ? patient.external_ref : null,
    patient.fitzpatrick_type ? `Fitzpatrick skin type ${roman(patient.fitzpatrick_type)}` : null,
    patient.birth_year ? `born ${patient.birth_year}` : null,
    patient.concerns.length ? `concerns: ${patient.concerns.map((c) => humanize(c).toLowerCase()).join(', ')}` : null,
    patient.contact_phone ? `phone ${patient.contact_phone}` : null,
  ].filter(Boolean);

  const edit = editPatientAction(patient);
  const enroll = enrollAction(id);
  const record = treatmentAction(id, protos, chosen?.protocol_id);
  const launchers = await appLaunchers(id).catch(() => null);
  const printButton = h('button', { type: 'button', 'data-testid': 'print-patient', onclick: () => window.print() }, 'Print');
  const head = h(
    'div',
    { class: 'screen-head' },
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/patients' }, 'Patients'), ' › ', name),
    h('div', { class: 'split' }, h('h1', { 'data-testid': 'patient-name' }, name), h('div', { class: 'form-buttons' }, edit.button, record.button, enroll.button, printButton)),
    h('p', { class: 'muted', 'data-testid': 'patient-facts' }, facts.join(' · ')),
    edit.slot,
    enroll.slot,
    record.slot,
    launchers,
  );
  const alertsNote = open.items.length
    ? h(
        'div',
        { class: 'panel attention', 'data-testid': 'patient-alerts' },
        h('strong', {}, `${open.items.length} open alert${open.items.length > 1 ? 's' : ''}: `),
        open.items.map((a) => `${ruleName(a.rule)} (${LEVELS[a.level]}, day ${a.day})`).join('; '),
        ' ',
        h('a', { href: `#/alerts?status=open&patient=${id}` }, 'Acknowledge or resolve them'),
      )
    : null;

  if (!chosen) {
    return h('section', { class: 'screen', 'data-testid': 'patient-screen' }, head, alertsNote, h('p', { class: 'panel empty' }, 'No treatments recorded yet.'), photos?.length ? photosPanel(photos) : null);
  }

  const protocol = protos.get(chosen.protocol_id);
  const detail = details.get(chosen.treatment_id) || (await get(`/v1/treatments/${chosen.treatment_id}`));
  // With more than one treatment, the photos shown are the chosen one's (a photo's day counts from its own).
  const [words, followed, shown] = await Promise.all([
    patientWords(id, chosen.treatment_id),
    followUp(detail),
    recovery.treatments.length > 1 ? ofTreatment(id, chosen.treatment_id, photos) : photos,
  ]);
  const today = daysSince(chosen.performed_at);
  const lastScheduled = protocol ? Math.max(...protocol.check_in_days) : today;
  const lastDay = Math.min(today, lastScheduled);

  const picker =
    recovery.treatments.length > 1
      ? h(
          'nav',
          { class: 'tabs', 'aria-label': 'Treatments' },
          ...recovery.treatments.map((t) => {
            const p = protos.get(t.protocol_id);
            const d = details.get(t.treatment_id);
            return h(
              'a',
              {
                class: 'tab',
                href: `#/patients/${id}?treatment=${t.treatment_id}`,
                'aria-current': t === chosen ? 'page' : null,
              },
              `${formatDate(t.performed_at)}${d ? ` · session ${d.session_number}` : ''}${p ? ` · ${p.name}` : ''}`,
            );
          }),
        )
      : null;

  const summary = h(
    'div',
    { class: 'treatment-summary', 'data-testid': 'treatment-summary' },
    h('div', {}, h('span', { class: 'label' }, 'Protocol'), protocol ? h('a', { href: `#/protocols/${protocol.id}` }, protocol.name) : '—'),
    h('div', {}, h('span', { class: 'label' }, 'Treated'), formatDate(chosen.performed_at, true)),
    h('div', {}, h('span', { class: 'label' }, 'Today'), `day ${today}`),
    detail ? h('div', {}, h('span', { class: 'label' }, 'Session'), `${detail.session_number}${protocol ? ` of ${protocol.sessions_planned}` : ''}`) : null,
    detail ? h('div', {}, h('span', { class: 'label' }, 'Areas'), detail.areas.map(humanize).join(', ')) : null,
  );

  const ordered = [...chosen.symptoms].sort((a, b) => symptomOf(catalogue, a.code).order - symptomOf(catalogue, b.code).order);
  const felt = ordered.filter((s) => s.days.some((d) => d.score > 0));
  const none = ordered.filter((s) => !felt.includes(s)).map((s) => symptomOf(catalogue, s.code).name);
  const cards = felt.map((s) => {
    const symptom = symptomOf(catalogue, s.code);
    const answers = answersOf(symptom);
    const hasCohort = s.cohort.length > 0;
    return h(
      'article',
      { class: 'card chart-card', 'data-testid': `chart-${s.code}`, 'data-symptom': s.code },
      h(
        'div',
        { class: 'card-head' },
        h('div', {}, h('h2', {}, symptom.name), symptom.label !== symptom.name ? h('div', { class: 'muted small' }, symptom.label) : null),
        h('div', { class: 'chips' }, symptomStatus(s)),
      ),
      patientChart({ label: symptom.name, days: s.days, answers, lastDay, cohort: s.cohort }),
      hasCohort ? null : h('p', { class: 'muted small' }, 'The cohort’s figures show on days that 20 or more treatments of this protocol reported.'),
      dataTable(s, answers, chosen.performed_at, symptom.name),
    );
  });

  return h(
    'section',
    { class: 'screen', 'data-testid': 'patient-screen' },
    head,
    alertsNote,
    picker,
    summary,
    treatmentRecord(detail),
    cards.length
      ? [
          legend([
            ['patient', 'This patient, worst score each day'],
            ['median', 'Median of the protocol’s patients'],
            ['band', 'Where 90% of the protocol’s patients are'],
            ['above', 'Above that 90%'],
          ]),
          h('div', { class: 'grid' }, cards),
        ]
      : null,
    none.length ? h('p', { class: 'muted', 'data-testid': 'symptoms-none' }, `None at every check-in: ${none.join(', ')}.`) : null,
    ordered.length ? null : h('p', { class: 'panel empty' }, 'No check-ins yet for this treatment.'),
    photosPanel(shown),
    words,
    followed,
  );
}

