// One protocol: its figures, each symptom's incidence and resolution days, and the chosen
// symptom's daily scores and time to resolution; its daily figures download as CSV.

import { get } from './api.js';
import { cohortChart, survivalChart } from './charts.js';
import { legend, stat } from './dom.js';
import { answersOf, dash, lastReportedDay, pct, protocolFacts, protocols, symptomOf, symptoms } from './shared.js';
import { h } from './shared/dom.js';

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; empty for null. */
function csvField(v) {
  if (v === null || v === undefined) return '';
  const text = String(v);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * A protocol's daily figures (`GET /v1/protocols/{id}/recovery`) as CSV: a header, then a row per
 * symptom and day with every figure the view gives for a day, in the view's order; the lines
 * end in CRLF. The columns follow the view, so a figure it gains is exported without a change here.
 */
export function dailyFiguresCsv(recovery) {
  const figures = [];
  for (const s of recovery.symptoms) {
    for (const d of s.days) for (const k of Object.keys(d)) if (k !== 'day' && !figures.includes(k)) figures.push(k);
  }
  const rows = [['symptom', 'day', ...figures]];
  for (const s of recovery.symptoms) for (const d of s.days) rows.push([s.code, d.day, ...figures.map((k) => d[k])]);
  return rows.map((r) => `${r.map(csvField).join(',')}\r\n`).join('');
}

/** The file name of a protocol's daily figures: `protocol-<name>-daily.csv`, the name as a slug. */
export function dailyFiguresFilename(name) {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `protocol-${slug || 'unnamed'}-daily.csv`;
}

/** Hands `text` to the browser as a download named `filename`. */
function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** The protocol `id`, showing the symptom that `params` chooses (else the most frequent). */
export async function protocolScreen(id, params) {
  const [catalogue, protos, recovery] = await Promise.all([symptoms(), protocols(), get(`/v1/protocols/${id}/recovery`)]);
  const protocol = protos.get(id) || (await get(`/v1/protocols/${id}`));
  document.title = `${protocol.name} · Aftercare`;
  const reported = recovery.symptoms
    .filter((s) => s.resolution.affected > 0)
    .sort((a, b) => (b.incidence ?? 0) - (a.incidence ?? 0) || symptomOf(catalogue, a.code).order - symptomOf(catalogue, b.code).order);
  const chartArea = h('div', { class: 'grid two' });
  const rows = new Map();

  const select = (code) => {
    const s = recovery.symptoms.find((x) => x.code === code);
    if (!s) return;
    for (const [c, row] of rows) {
      if (c === code) row.setAttribute('aria-current', 'true');
      else row.removeAttribute('aria-current');
    }
    history.replaceState(null, '', `#/protocols/${id}?symptom=${code}`);
    const symptom = symptomOf(catalogue, code);
    const xMax = Math.max(7, lastReportedDay(s));
    chartArea.replaceChildren(
      h(
        'article',
        { class: 'card chart-card', 'data-testid': 'protocol-daily' },
        h('div', { class: 'card-head' }, h('h2', {}, `${symptom.name}: daily scores`)),
        cohortChart({ label: symptom.name, days: s.days, answers: answersOf(symptom), xMax }),
        legend([
          ['median', 'Median'],
          ['mean', 'Mean'],
          ['band inner', 'Up to the 75th percentile'],
          ['band', 'Up to the 90th percentile'],
        ]),
      ),
      h(
        'article',
        { class: 'card chart-card', 'data-testid': 'protocol-resolution' },
        h(
          'div',
          { class: 'card-head' },
          h('h2', {}, `${symptom.name}: time to resolution`),
          h('div', { class: 'chips' }, h('span', { class: 'chip' }, s.resolution.median_day === null ? 'Half not resolved yet' : `Half resolved by day ${s.resolution.median_day}`)),
        ),
        survivalChart({ label: symptom.name, series: [{ name: protocol.name, curve: s.resolution.curve, medianDay: s.resolution.median_day, tone: 'tone-a', end: lastReportedDay(s) }], xMax }),
        legend([
          ['km tone-a', 'Share not yet resolved (Kaplan-Meier)'],
          ['km-band tone-a', '95% confidence band'],
        ]),
        h('p', { class: 'muted small' }, `${s.resolution.affected} treatments had it: ${s.resolution.resolved} resolved, ${s.resolution.censored} not resolved at their last check-in.`),
      ),
    );
  };

  const table = h(
    'table',
    { 'data-testid': 'protocol-symptoms', class: 'selectable' },
    h('caption', { class: 'sr-only' }, 'Symptoms after this protocol'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Symptom'),
        h('th', { scope: 'col', class: 'num' }, 'Had it'),
        h('th', { scope: 'col', class: 'num' }, 'Half resolved by day'),
        h('th', { scope: 'col', class: 'num' }, '75% by day'),
        h('th', { scope: 'col', class: 'num' }, '90% by day'),
        h('th', { scope: 'col', class: 'num' }, 'Not resolved at last check-in'),
      ),
    ),
    h(
      'tbody',
      {},
      ...reported.map((s) => {
        const symptom = symptomOf(catalogue, s.code);
        const row = h(
          'tr',
          { 'data-testid': 'protocol-symptom', 'data-symptom': s.code },
          h('th', { scope: 'row' }, h('button', { type: 'button', class: 'link', onclick: () => select(s.code) }, symptom.name)),
          h('td', { class: 'num' }, `${pct(s.incidence)} (${s.resolution.affected})`),
          h('td', { class: 'num' }, dash(s.resolution.median_day)),
          h('td', { class: 'num' }, dash(s.resolution.p75_day)),
          h('td', { class: 'num' }, dash(s.resolution.p90_day)),
          h('td', { class: 'num' }, String(s.resolution.censored)),
        );
        rows.set(s.code, row);
        return row;
      }),
    ),
  );

  const node = h(
    'section',
    { class: 'screen', 'data-testid': 'protocol-screen' },
    h(
      'div',
      { class: 'screen-head split' },
      h(
        'div',
        {},
        h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/protocols' }, 'Protocols'), ' › ', protocol.name),
        h('h1', { 'data-testid': 'protocol-name' }, protocol.name),
        h('p', { class: 'muted' }, protocolFacts(protocol)),
      ),
      h(
        'div',
        { class: 'form-buttons' },
        h(
          'button',
          { type: 'button', 'data-testid': 'protocol-csv', onclick: () => download(dailyFiguresFilename(protocol.name), dailyFiguresCsv(recovery), 'text/csv;charset=utf-8') },
          'Download CSV',
        ),
        h('a', { class: 'button', href: `#/compare?ids=${id}` }, 'Compare with…'),
      ),
    ),
    h(
      'div',
      { class: 'stats' },
      stat('Treatments', String(recovery.treatments), 'stat-treatments'),
      stat('Check-in adherence', pct(recovery.adherence), 'stat-adherence'),
      stat('Complications per 100 treatments', recovery.complications.length ? recovery.complications.reduce((a, c) => a + c.per_100_treatments, 0).toFixed(1) : '0', 'stat-complications'),
    ),
    reported.length
      ? [h('h2', { class: 'section-title' }, 'Symptoms'), h('p', { class: 'muted small' }, 'Choose a symptom to see its curves.'), h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Table (scrolls sideways)' }, table), chartArea]
      : h('p', { class: 'panel empty' }, 'No symptoms reported after this protocol yet.'),
    recovery.complications.length
      ? [
          h('h2', { class: 'section-title' }, 'Complications'),
          h(
            'div',
            { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Table (scrolls sideways)' },
            h(
              'table',
              {},
              h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Term'), h('th', { scope: 'col', class: 'num' }, 'CTCAE grade'), h('th', { scope: 'col', class: 'num' }, 'Count'), h('th', { scope: 'col', class: 'num' }, 'Per 100 treatments'))),
              h(
                'tbody',
                {},
                ...recovery.complications.map((c) =>
                  h('tr', {}, h('td', {}, c.term), h('td', { class: 'num' }, String(c.grade)), h('td', { class: 'num' }, String(c.count)), h('td', { class: 'num' }, c.per_100_treatments.toFixed(1))),
                ),
              ),
            ),
          ),
        ]
      : null,
  );
  if (reported.length) select(reported.some((s) => s.code === params.get('symptom')) ? params.get('symptom') : reported[0].code);
  return node;
}
