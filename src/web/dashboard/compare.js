// Two protocols compared: chosen in a form with the cohort's filters, then their figures symptom
// by symptom and one symptom's time to resolution under both, with the log-rank test.

import { get } from './api.js';
import { survivalChart } from './charts.js';
import { legend, toast } from './dom.js';
import { dash, humanize, lastReportedDay, pct, protocolFacts, protocols, roman, symptomOf, symptoms } from './shared.js';
import { h } from './shared/dom.js';

// The API's cohort filters (`RecoveryFilter`), as the hash carries them.
const FILTERS = ['fitzpatrick_type', 'area', 'session_number', 'from', 'to'];
const AREAS = ['face', 'neck', 'chest', 'hands', 'scalp', 'body'];

/** The log-rank test in words: "p = 0.03: the difference … is statistically significant". */
export function logRankText(test) {
  if (!test) return 'Too few resolutions in one of the protocols to test for a difference.';
  const p = test.p_value;
  const shown = p < 0.001 ? 'p < 0.001' : `p = ${p < 0.01 || p.toFixed(2) === '0.05' ? p.toFixed(3) : p.toFixed(2)}`;
  return p < 0.05
    ? `${shown}: the difference in time to resolution is statistically significant (log-rank)`
    : `${shown}: no meaningful difference in time to resolution (log-rank)`;
}

/** The form, and once `params` names two protocols (`ids`), their comparison. */
export async function compareScreen(params) {
  document.title = 'Compare protocols · Aftercare';
  const [catalogue, protoMap] = await Promise.all([symptoms(), protocols(true)]);
  const protos = [...protoMap.values()];
  const ids = (params.get('ids') || '').split(',').filter((x) => protoMap.has(x));
  const chosen = new URLSearchParams();
  for (const k of FILTERS) if (params.get(k)) chosen.set(k, params.get(k));
  const filtered = chosen.toString() ? `&${chosen}` : '';
  const choice = (label, name, options) =>
    h(
      'div',
      { class: 'field filter' },
      h('label', { for: `compare-${name}` }, label),
      h(
        'select',
        { id: `compare-${name}`, name, 'data-testid': `compare-${name}` },
        h('option', { value: '' }, 'Any'),
        ...options.map(([value, text]) => h('option', { value, selected: params.get(name) === String(value) }, text)),
      ),
    );
  const dateField = (label, name) =>
    h(
      'div',
      { class: 'field filter' },
      h('label', { for: `compare-${name}` }, label),
      h('input', { type: 'date', id: `compare-${name}`, name, value: params.get(name) || '', 'data-testid': `compare-${name}` }),
    );
  const filters = h(
    'fieldset',
    { class: 'compare-filters', 'data-testid': 'compare-filters' },
    h('legend', {}, 'Treatments compared'),
    choice('Skin type', 'fitzpatrick_type', [1, 2, 3, 4, 5, 6].map((n) => [n, `Type ${roman(n)}`])),
    choice('Area', 'area', AREAS.map((a) => [a, humanize(a)])),
    choice('Session', 'session_number', [1, 2, 3, 4, 5, 6].map((n) => [n, n === 1 ? 'First' : `Session ${n}`])),
    dateField('Treated from', 'from'),
    dateField('Treated to', 'to'),
  );
  const pick = (label, id, chosen, fallback) =>
    h(
      'div',
      { class: 'field' },
      h('label', { for: id }, label),
      h(
        'select',
        { id, name: id, 'data-testid': id },
        ...protos.map((p) => h('option', { value: p.id, selected: p.id === (chosen || fallback) }, p.name)),
      ),
    );
  const form = h(
    'form',
    { class: 'compare-form', 'data-testid': 'compare-form' },
    pick('First protocol', 'compare-a', ids[0], protos[0]?.id),
    pick('Second protocol', 'compare-b', ids[1], protos.find((p) => p.id !== (ids[0] || protos[0]?.id))?.id),
    filters,
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'compare-submit' }, 'Compare'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const a = form.querySelector('#compare-a').value;
    const b = form.querySelector('#compare-b').value;
    if (a === b) {
      toast('Choose two different protocols.', 'error');
      return;
    }
    const query = new URLSearchParams();
    for (const k of FILTERS) {
      const v = form.querySelector(`[name=${k}]`).value;
      if (v) query.set(k, v);
    }
    location.hash = `#/compare?ids=${a},${b}${query.toString() ? `&${query}` : ''}`;
  });
  const head = h('div', { class: 'screen-head' }, h('h1', {}, 'Compare protocols'), h('p', { class: 'muted' }, 'How patients recover after two protocols, symptom by symptom.'));
  if (protos.length < 2) {
    return h('section', { class: 'screen', 'data-testid': 'compare-screen' }, head, h('p', { class: 'panel empty' }, 'Comparing needs two protocols.'));
  }
  if (ids.length < 2 || ids[0] === ids[1]) {
    return h('section', { class: 'screen', 'data-testid': 'compare-screen' }, head, form);
  }

  const [a, b] = ids;
  const [comparison, ra, rb] = await Promise.all([
    get(`/v1/protocols/compare?ids=${a},${b}${filtered}`),
    get(`/v1/protocols/${a}/recovery?${chosen}`),
    get(`/v1/protocols/${b}/recovery?${chosen}`),
  ]);
  const tones = ['tone-a', 'tone-b'];
  const cards = comparison.protocols.map((p, i) =>
    h(
      'article',
      { class: `card protocol-card ${tones[i]}`, 'data-testid': 'compare-protocol', 'data-protocol-id': p.protocol_id },
      h('h2', {}, h('span', { class: `swatch ${tones[i]}`, 'aria-hidden': 'true' }), h('a', { href: `#/protocols/${p.protocol_id}` }, p.name)),
      h('p', { class: 'muted' }, protoMap.has(p.protocol_id) ? protocolFacts(protoMap.get(p.protocol_id)) : ''),
      h('p', { 'data-testid': 'compare-treatments' }, `${p.treatments} treatment${p.treatments === 1 ? '' : 's'}`),
    ),
  );
  const shown = comparison.symptoms.filter((s) => s.protocols.some((p) => (p.incidence ?? 0) > 0));
  const names = comparison.protocols.map((p) => p.name);
  const body = h('tbody');
  for (const s of shown) {
    const symptom = symptomOf(catalogue, s.code);
    s.protocols.forEach((p, i) => {
      const ci = p.median_ci_low === null && p.median_ci_high === null ? '—' : `${dash(p.median_ci_low)}–${dash(p.median_ci_high)}`;
      body.append(
        h(
          'tr',
          { class: i === 0 ? 'group-start' : '', 'data-testid': 'compare-row', 'data-symptom': s.code, 'data-protocol-id': p.protocol_id },
          i === 0 ? h('th', { scope: 'rowgroup', rowspan: s.protocols.length }, symptom.name) : null,
          h('td', {}, h('span', { class: `swatch ${tones[i]}`, 'aria-hidden': 'true' }), names[i]),
          h('td', { class: 'num' }, pct(p.incidence)),
          h('td', { class: 'num', 'data-testid': 'compare-median' }, dash(p.median_day)),
          h('td', { class: 'num' }, ci),
          h('td', { class: 'num' }, pct(p.moderate_or_worse_day_1)),
          h('td', { class: 'num' }, pct(p.moderate_or_worse_day_3)),
          h('td', { class: 'num' }, pct(p.moderate_or_worse_day_7)),
        ),
      );
    });
  }
  const table = h(
    'table',
    { class: 'compare', 'data-testid': 'compare-table' },
    h('caption', { class: 'sr-only' }, `${names.join(' and ')} compared`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col', rowspan: 2 }, 'Symptom'),
        h('th', { scope: 'col', rowspan: 2 }, 'Protocol'),
        h('th', { scope: 'col', rowspan: 2, class: 'num' }, 'Had it'),
        h('th', { scope: 'colgroup', colspan: 2, class: 'num' }, 'Half resolved by day'),
        h('th', { scope: 'colgroup', colspan: 3, class: 'num' }, 'Moderate or worse'),
      ),
      h(
        'tr',
        {},
        h('th', { scope: 'col', class: 'num' }, 'Day'),
        h('th', { scope: 'col', class: 'num' }, '95% interval'),
        h('th', { scope: 'col', class: 'num' }, 'Day 1'),
        h('th', { scope: 'col', class: 'num' }, 'Day 3'),
        h('th', { scope: 'col', class: 'num' }, 'Day 7'),
      ),
    ),
    body,
  );

  // Time to resolution of one symptom, both protocols on one chart.
  const chartBox = h('div', {});
  const symptomSelect = h(
    'select',
    { id: 'compare-symptom', 'data-testid': 'compare-symptom' },
    ...shown.map((s) => h('option', { value: s.code }, symptomOf(catalogue, s.code).name)),
  );
  const drawCurves = () => {
    const code = symptomSelect.value;
    const symptom = symptomOf(catalogue, code);
    const sa = ra.symptoms.find((s) => s.code === code);
    const sb = rb.symptoms.find((s) => s.code === code);
    const series = [
      [sa, names[0], tones[0]],
      [sb, names[1], tones[1]],
    ]
      .filter(([s]) => s && s.resolution.affected > 0)
      .map(([s, name, tone]) => ({ name, curve: s.resolution.curve, medianDay: s.resolution.median_day, tone, end: lastReportedDay(s) }));
    const xMax = Math.max(7, ...[sa, sb].filter(Boolean).map(lastReportedDay));
    const test = comparison.symptoms.find((s) => s.code === code)?.log_rank;
    const significant = test && test.p_value < 0.05;
    chartBox.replaceChildren(
      h('p', { class: `log-rank${significant ? ' significant' : ''}`, 'data-testid': 'compare-logrank' }, logRankText(test)),
      survivalChart({ label: symptom.name, series, xMax, width: 960, height: 280 }),
      legend([
        ...series.map((s) => [`km ${s.tone}`, `${s.name}: share not yet resolved`]),
        ['km-band neutral', '95% confidence bands'],
      ]),
    );
  };
  symptomSelect.addEventListener('change', drawCurves);
  if (shown.length) drawCurves();

  return h(
    'section',
    { class: 'screen', 'data-testid': 'compare-screen' },
    head,
    form,
    h('div', { class: 'grid two', 'data-testid': 'compare-result' }, cards),
    shown.length
      ? [
          h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Table (scrolls sideways)' }, table),
          h(
            'article',
            { class: 'card chart-card' },
            h('div', { class: 'card-head' }, h('h2', {}, 'Time to resolution'), h('div', { class: 'field inline' }, h('label', { for: 'compare-symptom' }, 'Symptom'), symptomSelect)),
            chartBox,
          ),
        ]
      : h('p', { class: 'panel empty' }, 'Neither protocol has reported symptoms yet.'),
  );
}
