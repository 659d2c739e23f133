// The patients list: the clinic's figures, who needs attention first, and each patient's latest
// treatment at a glance.

import { get } from './api.js';
import { answerLabel, sparkline } from './charts.js';
import { h, pager, stat } from './dom.js';
import { answersOf, cache, daysSince, eachLimited, formatDate, pct, patientName, patientsById, protocols, roman, symptomOf, symptoms, topAlert } from './shared.js';

/** What a list shows of a patient's latest treatment. */
function glance(recovery, catalogue) {
  const latest = recovery.treatments[0];
  if (!latest) return null;
  const worstByDay = new Map();
  let lastDay = -1;
  for (const symptom of latest.symptoms) {
    for (const d of symptom.days) {
      worstByDay.set(d.day, Math.max(worstByDay.get(d.day) ?? 0, d.score));
      lastDay = Math.max(lastDay, d.day);
    }
  }
  let worst = null;
  for (const symptom of latest.symptoms) {
    const d = symptom.days.find((x) => x.day === lastDay);
    if (d && d.score > 0 && (!worst || d.score > worst.score)) worst = { code: symptom.code, score: d.score };
  }
  const series = [...worstByDay.entries()].sort((a, b) => a[0] - b[0]).map(([day, v]) => ({ day, v }));
  return {
    treatment: latest,
    series,
    lastDay,
    worst: worst ? { ...worst, symptom: symptomOf(catalogue, worst.code) } : null,
    slower: latest.symptoms.filter((s) => s.slower_than_usual).map((s) => symptomOf(catalogue, s.code).name),
  };
}

export async function patientsScreen() {
  document.title = 'Patients · Aftercare';
  const [catalogue, protos, summary, open] = await Promise.all([
    symptoms(),
    protocols(),
    get('/v1/dashboard'),
    get('/v1/alerts?status=open&limit=200'),
  ]);
  const openByPatient = new Map();
  for (const a of open.items) {
    const list = openByPatient.get(a.patient_id) || [];
    list.push(a);
    openByPatient.set(a.patient_id, list);
  }
  const slowTreatments = new Set(summary.slower_than_usual.map((s) => s.treatment_id));
  // Who needs attention first: open alerts in the queue's order, then slower recoveries.
  const slowByPatient = new Map(summary.slower_than_usual.map((s) => [s.patient_id, s]));
  const attention = [...new Set([...openByPatient.keys(), ...slowByPatient.keys()])];
  await patientsById(attention);
  const attentionPanel = attention.length
    ? h(
        'section',
        { class: 'attention-list', 'aria-labelledby': 'attention-title', 'data-testid': 'attention' },
        h('h2', { id: 'attention-title' }, 'Needs attention'),
        h(
          'ul',
          {},
          ...attention.map((id) => {
            const alerts = openByPatient.get(id) || [];
            const slow = slowByPatient.get(id);
            const top = topAlert(alerts);
            return h(
              'li',
              { 'data-testid': 'attention-patient', 'data-patient-id': id },
              h('a', { href: `#/patients/${id}` }, patientName(cache.patients.get(id), id)),
              alerts.length
                ? h(
                    'a',
                    { href: `#/alerts?status=open&patient=${id}`, class: `chip level-${top.level}` },
                    `${alerts.length} open alert${alerts.length > 1 ? 's' : ''}${top.level === 'normal' ? '' : `, ${top.level}`}`,
                  )
                : null,
              slow
                ? h(
                    'span',
                    { class: 'chip warn' },
                    `Slower than usual: ${slow.symptoms.map((c) => symptomOf(catalogue, c).name).join(', ')} (day ${slow.day})`,
                  )
                : null,
            );
          }),
        ),
      )
    : null;
  const body = h('tbody');

  const fill = async (patient, cells) => {
    try {
      const recovery = await get(`/v1/patients/${patient.id}/recovery`);
      const g = glance(recovery, catalogue);
      if (!g) {
        cells.treatment.replaceChildren(h('span', { class: 'muted' }, 'No treatment yet'));
        cells.day.textContent = '—';
        cells.trend.replaceChildren();
        cells.latest.textContent = '—';
        return;
      }
      const protocol = protos.get(g.treatment.protocol_id);
      cells.treatment.replaceChildren(
        h('div', {}, protocol ? protocol.name : 'Protocol'),
        h('div', { class: 'muted small' }, formatDate(g.treatment.performed_at)),
      );
      cells.day.textContent = String(daysSince(g.treatment.performed_at));
      cells.trend.replaceChildren(
        sparkline(g.series, 4, g.series.length ? `Worst score per day, days 0 to ${g.lastDay}` : 'No check-ins yet'),
      );
      cells.latest.replaceChildren(
        g.lastDay < 0
          ? h('span', { class: 'muted' }, 'No check-ins yet')
          : g.worst
            ? h(
                'span',
                {},
                h('span', { class: `sev sev-${Math.min(g.worst.score, 4)}` }, g.worst.symptom.name),
                ` ${answerLabel(answersOf(g.worst.symptom), g.worst.score)}`,
                h('div', { class: 'muted small' }, `day ${g.lastDay}`),
              )
            : h('span', {}, 'No symptoms', h('div', { class: 'muted small' }, `day ${g.lastDay}`)),
      );
      if (g.slower.length || slowTreatments.has(g.treatment.treatment_id)) {
        cells.flags.prepend(
          h(
            'span',
            { class: 'chip warn', 'data-testid': 'patient-flag-slower', title: g.slower.join(', ') },
            'Slower than usual',
            g.slower.length ? h('span', { class: 'chip-detail' }, `: ${g.slower.join(', ')}`) : null,
          ),
        );
      }
    } catch (err) {
      cells.latest.replaceChildren(h('span', { class: 'muted' }, err.message));
    }
  };

  const { more, load } = pager('/v1/patients?limit=50', 'Show more patients', (patients) => {
    const pending = [];
    for (const p of patients) {
      cache.patients.set(p.id, p);
      const alerts = openByPatient.get(p.id) || [];
      const top = topAlert(alerts);
      const cells = {
        treatment: h('td', {}, h('span', { class: 'muted' }, '…')),
        day: h('td', { class: 'num' }, '…'),
        trend: h('td', {}),
        latest: h('td', {}, h('span', { class: 'muted' }, '…')),
        flags: h(
          'td',
          { class: 'flags' },
          alerts.length
            ? h(
                'a',
                { href: `#/patients/${p.id}`, class: `chip level-${top.level}`, 'data-testid': 'patient-flag-alerts' },
                `${alerts.length} open alert${alerts.length > 1 ? 's' : ''}`,
              )
            : null,
        ),
      };
      body.append(
        h(
          'tr',
          { 'data-testid': 'patient-row', 'data-patient-id': p.id },
          h(
            'th',
            { scope: 'row' },
            h('a', { href: `#/patients/${p.id}`, 'data-testid': 'patient-link' }, patientName(p, p.id)),
            h('div', { class: 'muted small' }, [p.display_name ? p.external_ref : null, p.fitzpatrick_type ? `skin type ${roman(p.fitzpatrick_type)}` : null].filter(Boolean).join(' · ')),
          ),
          cells.treatment,
          cells.day,
          cells.trend,
          cells.latest,
          cells.flags,
        ),
      );
      pending.push([p, cells]);
    }
    // The rows show at once; each one's recovery fills in as it arrives.
    eachLimited(pending, 4, ([p, cells]) => fill(p, cells));
  });
  await load();

  return h(
    'section',
    { class: 'screen', 'data-testid': 'patients-screen' },
    h('div', { class: 'screen-head' }, h('h1', {}, 'Patients'), h('p', { class: 'muted' }, 'Each patient’s latest treatment at a glance.')),
    h(
      'div',
      { class: 'stats' },
      stat('Treatments in follow-up', String(summary.active_treatments), 'stat-active'),
      stat('Check-ins today', String(summary.check_ins_today), 'stat-check-ins', `${summary.due_today_checked_in} of ${summary.due_today} due today checked in`),
      stat('Check-in adherence, 7 days', pct(summary.adherence_7d), 'stat-adherence'),
      stat('Slower than usual', String(summary.slower_than_usual.length), 'stat-slower', 'still not recovered when 90% of their protocol’s patients had'),
    ),
    attentionPanel,
    body.children.length
      ? h(
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
        )
      : h('p', { class: 'panel empty' }, 'No patients yet.'),
    more,
  );
}
