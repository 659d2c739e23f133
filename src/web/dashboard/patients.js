// The patients list: the clinic's figures, who needs attention first, and each patient's latest
// treatment at a glance; a search as one types and filters, one request per page of patients
// (each item carries what its row shows), and the form that adds a patient.

import { get } from './api.js';
import { answerLabel, sparkline } from './charts.js';
import { stat, toast } from './dom.js';
import { addPatientAction } from './patient_form.js';
import { answersOf, cache, formatDate, pct, patientName, protocols, roman, symptomOf, symptoms } from './shared.js';
import { h } from './shared/dom.js';

/** The list's yes-or-no filters, as the API's query parameters name them, and their labels. */
const FLAGS = [
  ['in_follow_up', 'In follow-up'],
  ['open_alerts', 'Open alerts'],
  ['slower', 'Slower than usual'],
  ['due_today', 'Due today, not checked in'],
];
const SEARCH_DELAY_MS = 250;
const LEVEL_ORDER = ['urgent', 'high', 'normal'];

/** The search and filters in the screen's address (`#/patients?q=alex&slower=true`). */
function filtersFromAddress() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const filters = new URLSearchParams();
  for (const key of ['q', 'protocol_id', ...FLAGS.map(([k]) => k)]) {
    if (params.get(key)) filters.set(key, params.get(key));
  }
  return filters;
}

function alertsChip(p, testid) {
  if (!p.open_alerts) return null;
  return h(
    'a',
    { href: `#/patients/${p.id}`, class: `chip level-${p.top_alert_level}`, 'data-testid': testid },
    `${p.open_alerts} open alert${p.open_alerts > 1 ? 's' : ''}${p.top_alert_level === 'normal' ? '' : `, ${p.top_alert_level}`}`,
  );
}

/** What the latest check-in showed: its worst symptom and answer, and its day. */
function latestCheckIn(t, catalogue) {
  if (!t) return '—';
  const latest = t.latest_check_in;
  if (!latest) return h('span', { class: 'muted' }, 'No check-ins yet');
  const day = h('div', { class: 'muted small' }, `day ${latest.day}`);
  if (!latest.worst) return h('span', {}, 'No symptoms', day);
  const symptom = symptomOf(catalogue, latest.worst.code);
  return h(
    'span',
    {},
    h('span', { class: `sev sev-${Math.min(latest.worst.score, 4)}` }, symptom.name),
    ` ${answerLabel(answersOf(symptom), latest.worst.score)}`,
    day,
  );
}

/** A patient's row, drawn from the list's item alone. */
function row(p, catalogue, protos) {
  const t = p.latest_treatment;
  const protocol = t && protos.get(t.protocol_id);
  const series = t ? t.worst_by_day.map((d) => ({ day: d.day, v: d.score })) : [];
  const slower = t ? t.slower_symptoms.map((c) => symptomOf(catalogue, c).name) : [];
  return h(
    'tr',
    { 'data-testid': 'patient-row', 'data-patient-id': p.id },
    h(
      'th',
      { scope: 'row' },
      h('a', { href: `#/patients/${p.id}`, 'data-testid': 'patient-link' }, patientName(p, p.id)),
      h('div', { class: 'muted small' }, [p.display_name ? p.external_ref : null, p.fitzpatrick_type ? `skin type ${roman(p.fitzpatrick_type)}` : null].filter(Boolean).join(' · ')),
    ),
    h(
      'td',
      {},
      t
        ? [h('div', {}, protocol ? protocol.name : 'Protocol'), h('div', { class: 'muted small' }, formatDate(t.performed_at))]
        : h('span', { class: 'muted' }, 'No treatment yet'),
    ),
    h('td', { class: 'num' }, t ? String(t.day) : '—'),
    h('td', {}, t ? sparkline(series, 4, series.length ? `Worst score per day, days 0 to ${series[series.length - 1].day}` : 'No check-ins yet') : null),
    h('td', {}, latestCheckIn(t, catalogue)),
    h(
      'td',
      { class: 'flags' },
      alertsChip(p, 'patient-flag-alerts'),
      t && t.slower_than_usual
        ? h(
            'span',
            { class: 'chip warn', 'data-testid': 'patient-flag-slower', title: slower.join(', ') },
            'Slower than usual',
            slower.length ? h('span', { class: 'chip-detail' }, `: ${slower.join(', ')}`) : null,
          )
        : null,
      t && t.due_today_not_checked_in ? h('span', { class: 'chip', 'data-testid': 'patient-flag-due' }, 'Due today, not checked in') : null,
    ),
  );
}

export async function patientsScreen() {
  document.title = 'Patients · Aftercare';
  const [catalogue, protos, summary, alerted, slowed] = await Promise.all([
    symptoms(),
    protocols(),
    get('/v1/dashboard'),
    get('/v1/patients?open_alerts=true&limit=200'),
    get('/v1/patients?slower=true&limit=200'),
  ]);
  // Who needs attention first: open alerts, the most urgent first, then slower recoveries.
  const byLevel = [...alerted.items].sort((a, b) => LEVEL_ORDER.indexOf(a.top_alert_level) - LEVEL_ORDER.indexOf(b.top_alert_level));
  const attention = [...byLevel, ...slowed.items.filter((p) => !p.open_alerts)];
  const attentionPanel = attention.length
    ? h(
        'section',
        { class: 'attention-list', 'aria-labelledby': 'attention-title', 'data-testid': 'attention' },
        h('h2', { id: 'attention-title' }, 'Needs attention'),
        h(
          'ul',
          {},
          ...attention.map((p) => {
            cache.patients.set(p.id, p);
            const t = p.latest_treatment;
            return h(
              'li',
              { 'data-testid': 'attention-patient', 'data-patient-id': p.id },
              h('a', { href: `#/patients/${p.id}` }, patientName(p, p.id)),
              alertsChip(p),
              t && t.slower_than_usual
                ? h('span', { class: 'chip warn' }, `Slower than usual: ${t.slower_symptoms.map((c) => symptomOf(catalogue, c).name).join(', ')} (day ${t.day})`)
                : null,
            );
          }),
        ),
      )
    : null;

  // The list: the search and filters, and the patients they choose, a page per request.
  const filters = filtersFromAddress();
  const body = h('tbody');
  const results = h('p', { class: 'muted results', role: 'status', 'aria-live': 'polite', 'data-testid': 'patient-results' });
  const more = h('button', { type: 'button', hidden: true, 'data-testid': 'patients-more' }, 'Show more patients');
  const table = h(
    'div',
    { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Table (scrolls sideways)' },
    h(
      'table',
      { class: 'patients', 'data-testid': 'patient-table' },
      h('caption', { class: 'sr-only' }, 'Patients and their latest treatment'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Patient'),
          h('th', { scope: 'col' }, 'Latest treatment'),
          h('th', { scope: 'col', class: 'num' }, 'Day'),
          h('th', { scope: 'col' }, 'Worst score per day'),
          h('th', { scope: 'col' }, 'Latest check-in'),
          h('th', { scope: 'col' }, 'Needs attention'),
        ),
      ),
      body,
    ),
  );
  let asked = 0;
  let shown = 0;
  let cursor = null;
  const announce = () => {
    const found = [...filters.keys()].length > 0;
    const n = `${shown} patient${shown === 1 ? '' : 's'}`;
    results.textContent = shown
      ? `${n}${found ? ' found' : ''}${cursor ? ', more below' : ''}.`
      : found
        ? 'No patient matches the search and filters.'
        : 'No patients yet.';
    table.hidden = shown === 0;
  };
  /** Fetches a page after `after`; drawn only if no newer search began meanwhile. */
  const load = async (ask, after) => {
    const query = new URLSearchParams(filters);
    query.set('limit', '50');
    if (after) query.set('cursor', after);
    const page = await get(`/v1/patients?${query}`);
    if (ask !== asked) return;
    for (const p of page.items) {
      cache.patients.set(p.id, p);
      body.append(row(p, catalogue, protos));
    }
    shown += page.items.length;
    cursor = page.next_cursor;
    more.hidden = !cursor;
    announce();
  };
  const search = async () => {
    const ask = ++asked;
    const query = filters.toString();
    // Only while the list is the screen shown: a search typed just before leaving it must not
    // rewrite the next screen's address.
    if (/^#\/patients(\?|$)/.test(location.hash)) history.replaceState(null, '', `#/patients${query ? `?${query}` : ''}`);
    body.replaceChildren();
    [shown, cursor] = [0, null];
    await load(ask, null);
  };
  const searchNow = () =>
    search().catch((err) => {
      results.textContent = err.message;
    });
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      await load(asked, cursor);
    } catch (err) {
      toast(err.message, 'error');
    }
    more.disabled = false;
  });

  const box = h('input', {
    type: 'search',
    id: 'patient-search',
    'aria-label': 'Search patients by record number or name',
    placeholder: 'Record number or name',
    value: filters.get('q') || '',
    maxlength: 100,
    autocomplete: 'off',
    spellcheck: 'false',
    'data-testid': 'patient-search',
  });
  let typing = null;
  box.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      const q = box.value.trim();
      if (q) filters.set('q', q);
      else filters.delete('q');
      searchNow();
    }, SEARCH_DELAY_MS);
  });
  const protocolChoice = h(
    'select',
    { id: 'filter-protocol', 'data-testid': 'filter-protocol' },
    h('option', { value: '' }, 'All protocols'),
    ...[...protos.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((p) => h('option', { value: p.id, selected: filters.get('protocol_id') === p.id }, p.name)),
  );
  protocolChoice.addEventListener('change', () => {
    if (protocolChoice.value) filters.set('protocol_id', protocolChoice.value);
    else filters.delete('protocol_id');
    searchNow();
  });
  const flags = FLAGS.map(([key, label]) => {
    const check = h('input', { type: 'checkbox', id: `filter-${key}`, checked: filters.get(key) === 'true', 'data-testid': `filter-${key}` });
    check.addEventListener('change', () => {
      if (check.checked) filters.set(key, 'true');
      else filters.delete(key);
      searchNow();
    });
    return h('label', { class: 'check', for: check.id }, check, label);
  });
  const controls = h(
    'form',
    { class: 'list-filters', role: 'search', 'aria-label': 'Find patients', 'data-testid': 'patient-filters' },
    h('div', { class: 'field' }, h('label', { for: box.id }, 'Search'), box),
    h('div', { class: 'field' }, h('label', { for: protocolChoice.id }, 'Latest treatment’s protocol'), protocolChoice),
    h('fieldset', {}, h('legend', {}, 'Only patients'), h('div', { class: 'check-row' }, ...flags)),
  );
  controls.addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(typing);
    const q = box.value.trim();
    if (q) filters.set('q', q);
    else filters.delete('q');
    searchNow();
  });
  await search();

  const add = addPatientAction();
  return h(
    'section',
    { class: 'screen', 'data-testid': 'patients-screen' },
    h(
      'div',
      { class: 'screen-head' },
      h('div', { class: 'split' }, h('h1', {}, 'Patients'), add.button),
      h('p', { class: 'muted' }, 'Each patient’s latest treatment at a glance.'),
      add.slot,
    ),
    h(
      'div',
      { class: 'stats' },
      stat('Treatments in follow-up', String(summary.active_treatments), 'stat-active'),
      stat('Check-ins today', String(summary.check_ins_today), 'stat-check-ins', `${summary.due_today_checked_in} of ${summary.due_today} due today checked in`),
      stat('Check-in adherence, 7 days', pct(summary.adherence_7d), 'stat-adherence'),
      stat('Slower than usual', String(summary.slower_than_usual.length), 'stat-slower', 'still not recovered when 90% of their protocol’s patients had'),
    ),
    attentionPanel,
    controls,
    results,
    table,
    more,
  );
}
