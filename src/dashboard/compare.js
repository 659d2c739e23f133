// Two protocols compared: chosen in a form, then their figures symptom by symptom and one
// symptom's time to resolution under both.

import { get } from './api.js';
import { survivalChart } from './charts.js';
import { h, legend, toast } from './dom.js';
import { dash, lastReportedDay, pct, protocolFacts, protocols, symptomOf, symptoms } from './shared.js';

/** The form, and once `params` names two protocols (`ids`), their comparison. */
export async function compareScreen(params) {
  document.title = 'Compare protocols · Aftercare';
  const [catalogue, protoMap] = await Promise.all([symptoms(), protocols(true)]);
  const protos = [...protoMap.values()];
  const ids = (params.get('ids') || '').split(',').filter((x) => protoMap.has(x));
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
    location.hash = `#/compare?ids=${a},${b}`;
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
    get(`/v1/protocols/compare?ids=${a},${b}`),
    get(`/v1/protocols/${a}/recovery`),
    get(`/v1/protocols/${b}/recovery`),
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
    chartBox.replaceChildren(
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
