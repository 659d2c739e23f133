// The alert queue: open, acknowledged or resolved alerts, urgent first, each with the patient's
// number to call, to acknowledge and resolve with a note and what it led to, each with the photos
// sent with the check-ins that raised it; above it, the clinic's alert burden of the last 30 days.

import { get, post } from './api.js';
import { answerLabel } from './charts.js';
import { pager, toast } from './dom.js';
import { alertPhotos, forgetPhotos } from './photos.js';
import { ACTIONS, LEVELS, STATUSES, answersOf, ago, cache, callLink, formatDate, humanize, me, patientName, patientsById, ruleName, symptomOf, symptoms } from './shared.js';
import { h } from './shared/dom.js';

function evidenceText(catalogue, item) {
  const detail = item.detail || {};
  if (Array.isArray(detail.missed_days)) return `Missed check-ins on days ${detail.missed_days.join(', ')}`;
  const parts = Object.entries(detail).map(([code, value]) => {
    const symptom = symptomOf(catalogue, code);
    return typeof value === 'number' ? `${symptom.name}: ${answerLabel(answersOf(symptom), value)}` : `${symptom.name}: ${value}`;
  });
  return parts.length ? parts.join(' · ') : 'Reported in a check-in';
}

function historyText(entry, myId) {
  const who = entry.by ? (entry.by === myId ? ' by you' : ' by a colleague') : '';
  return `${humanize(entry.event)} ${formatDate(entry.at, true)}${who}`;
}

/** An alert with its patient (and their phone, unless `phone` is false: the worklist's card shows it
 * once above its alerts), what raised it, its history and the buttons to act on it. */
export function alertRow(alert, catalogue, myId, onChange, { phone = true } = {}) {
  const patient = cache.patients.get(alert.patient_id);
  const latest = alert.evidence[alert.evidence.length - 1];
  const raised = alert.history.find((e) => e.event === 'raised');
  const resolution = alert.history.find((e) => e.event === 'resolved');
  const actions = h('div', { class: 'actions' });
  const row = h(
    'li',
    {
      class: `alert level-${alert.level} alert-${alert.status}`,
      'data-testid': 'alert-row',
      'data-alert-id': alert.id,
      'data-level': alert.level,
      'data-status': alert.status,
    },
    h('span', { class: `badge level-${alert.level}`, 'data-testid': 'alert-level' }, LEVELS[alert.level] || alert.level),
    h(
      'div',
      { class: 'alert-main' },
      h(
        'div',
        { class: 'alert-title' },
        h('strong', { 'data-testid': 'alert-rule' }, ruleName(alert.rule)),
        h('span', { class: 'muted' }, ` · day ${alert.day} after treatment`),
      ),
      h(
        'div',
        { class: 'alert-patient' },
        h('a', { href: `#/patients/${alert.patient_id}`, 'data-testid': 'alert-patient' }, patientName(patient, alert.patient_id)),
        patient && patient.display_name ? h('span', { class: 'muted' }, ` · ${patient.external_ref}`) : null,
        phone && patient?.contact_phone ? callLink(patient.contact_phone, 'alert-phone') : null,
      ),
      latest
        ? h(
            'div',
            { class: 'alert-evidence', 'data-testid': 'alert-evidence' },
            evidenceText(catalogue, latest),
            alert.evidence_count > 1 ? h('span', { class: 'muted' }, ` · ${alert.evidence_count} reports in all`) : null,
          )
        : null,
      h(
        'div',
        { class: 'alert-meta muted' },
        raised ? h('span', { title: formatDate(raised.at, true) }, `Raised ${ago(raised.at)}`) : null,
        ...alert.history.filter((e) => e.event !== 'raised').map((e) => h('span', {}, ` · ${historyText(e, myId)}`)),
      ),
      resolution && resolution.note ? h('p', { class: 'alert-note', 'data-testid': 'alert-resolution-note' }, resolution.note) : null,
      resolution && resolution.action ? h('p', { class: 'muted', 'data-testid': 'alert-resolution-action' }, `Led to: ${ACTIONS[resolution.action]}`) : null,
    ),
    h('div', { class: 'alert-side' }, h('span', { class: `state state-${alert.status}`, 'data-testid': 'alert-status' }, STATUSES[alert.status]), actions),
  );

  const act = async (button, call, done) => {
    button.disabled = true;
    try {
      const updated = await call();
      toast(done, 'ok');
      onChange(row, updated);
    } catch (err) {
      toast(err.message, 'error');
      button.disabled = false;
    }
  };

  const about = `${ruleName(alert.rule)}, ${patientName(patient, alert.patient_id)}`;
  if (alert.status === 'open') {
    const ack = h('button', { type: 'button', 'aria-label': `Acknowledge: ${about}`, 'data-testid': 'alert-ack' }, 'Acknowledge');
    ack.addEventListener('click', () => act(ack, () => post(`/v1/alerts/${alert.id}/acknowledge`), 'Alert acknowledged'));
    actions.append(ack);
  }
  if (alert.status !== 'resolved') {
    const open = h(
      'button',
      { type: 'button', 'aria-label': `Resolve: ${about}`, 'data-testid': 'alert-resolve' },
      'Resolve…',
    );
    const noteId = `note-${alert.id}`;
    const note = h('textarea', { id: noteId, rows: 3, maxlength: 2000, required: true, 'data-testid': 'alert-note' });
    const actionId = `action-${alert.id}`;
    const action = h(
      'select',
      { id: actionId, required: true, 'data-testid': 'alert-action' },
      h('option', { value: '' }, 'Choose…'),
      ...Object.entries(ACTIONS).map(([value, label]) => h('option', { value }, label)),
    );
    const confirm = h('button', { type: 'submit', class: 'primary', 'data-testid': 'alert-resolve-confirm' }, 'Resolve alert');
    const cancel = h('button', { type: 'button', class: 'link' }, 'Cancel');
    const form = h(
      'form',
      { class: 'resolve-form', hidden: true, 'data-testid': 'alert-resolve-form' },
      h('label', { for: actionId }, 'What it led to'),
      action,
      h('label', { for: noteId }, 'What was done (kept with the alert)'),
      note,
      h('div', { class: 'form-buttons' }, confirm, cancel),
    );
    open.addEventListener('click', () => {
      form.hidden = false;
      open.hidden = true;
      note.focus();
    });
    cancel.addEventListener('click', () => {
      form.hidden = true;
      open.hidden = false;
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = note.value.trim();
      if (!action.value) {
        toast('Choose what the alert led to before resolving.', 'error');
        action.focus();
        return;
      }
      if (!text) {
        toast('Write what was done before resolving.', 'error');
        note.focus();
        return;
      }
      act(confirm, () => post(`/v1/alerts/${alert.id}/resolve`, { note: text, action: action.value }), 'Alert resolved');
    });
    actions.append(open);
    row.querySelector('.alert-main').append(form);
  }
  // The photos sent with the check-ins that raised it, once read.
  alertPhotos(alert)
    .then((photos) => photos && row.querySelector('.alert-evidence')?.after(photos))
    .catch(() => {});
  return row;
}

const percent = (share) => (share === null ? '–' : `${Math.round(share * 100)}%`);
const rate = (value) => (value === null ? '–' : value.toFixed(1));

/** The last 30 days' alert burden: per rule with alerts, per 100 patient-weeks, and how often it led to an action. */
function burdenPanel(b) {
  const rows = b.rules.filter((r) => r.alerts > 0);
  const row = (label, r) =>
    h('tr', { 'data-rule': r.rule || 'all' }, h('th', { scope: 'row' }, label), h('td', {}, String(r.alerts)), h('td', {}, rate(r.per_100_patient_weeks)), h('td', {}, percent(r.action_share)));
  return h(
    'details',
    { class: 'panel burden', 'data-testid': 'alert-burden' },
    h('summary', {}, `Last 30 days: ${rate(b.all.per_100_patient_weeks)} alerts per 100 patient-weeks · ${percent(b.all.action_share)} of resolved alerts led to an action`),
    h(
      'div',
      { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Alert burden by rule' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Rule'), h('th', { scope: 'col' }, 'Alerts'), h('th', { scope: 'col' }, 'Per 100 patient-weeks'), h('th', { scope: 'col' }, 'Led to an action'))),
        h('tbody', {}, ...rows.map((r) => row(ruleName(r.rule), r)), row('All rules', b.all)),
      ),
    ),
    h('p', { class: 'muted' }, `${b.patient_weeks} patient-weeks in follow-up. A rule whose alerts rarely lead to an action is the one to look at first.`),
  );
}

/** The queue with the filters of `params` (status, level, patient); `refresh` shows it anew. */
export async function alertsScreen(params, refresh) {
  document.title = 'Alerts · Aftercare';
  forgetPhotos();
  const status = STATUSES[params.get('status')] ? params.get('status') : 'open';
  const level = LEVELS[params.get('level')] ? params.get('level') : '';
  const patient = /^[0-9a-f-]{36}$/i.test(params.get('patient') || '') ? params.get('patient') : '';
  const [catalogue, who, burden] = await Promise.all([symptoms(), me(), get('/v1/alerts/burden')]);
  if (patient) await patientsById([patient]);
  // The hash of this screen with one filter changed.
  const link = (change) => {
    const next = { status, level, patient, ...change };
    const q = Object.entries(next)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    return `#/alerts?${q}`;
  };
  const list = h('ol', { class: 'alerts', 'data-testid': 'alert-list', 'aria-label': `${STATUSES[status]} alerts` });
  const empty = h('p', { class: 'panel empty', hidden: true, 'data-testid': 'alerts-empty' }, `No ${status} alerts.`);

  const replace = (row, updated) => {
    row.replaceWith(alertRow(updated, catalogue, who.user_id, replace));
  };
  const { more, load } = pager(
    `/v1/alerts?status=${status}${level ? `&level=${level}` : ''}${patient ? `&patient_id=${patient}` : ''}&limit=50`,
    'Show more',
    async (alerts) => {
      await patientsById(alerts.map((a) => a.patient_id));
      for (const alert of alerts) list.append(alertRow(alert, catalogue, who.user_id, replace));
      empty.hidden = list.children.length > 0;
    },
  );
  await load();

  const tab = (s) =>
    h(
      'a',
      {
        href: link({ status: s }),
        class: 'tab',
        'aria-current': s === status ? 'page' : null,
        'data-testid': `alerts-tab-${s}`,
      },
      STATUSES[s],
    );
  const levelSelect = h(
    'select',
    { id: 'level', 'data-testid': 'alerts-level' },
    h('option', { value: '' }, 'All levels'),
    ...Object.entries(LEVELS).map(([v, label]) => h('option', { value: v, selected: v === level }, label)),
  );
  levelSelect.addEventListener('change', () => {
    location.hash = link({ level: levelSelect.value });
  });
  const refreshButton = h('button', { type: 'button', onclick: () => refresh() }, 'Refresh');
  return h(
    'section',
    { class: 'screen', 'data-testid': 'alerts-screen' },
    h(
      'div',
      { class: 'screen-head' },
      h('h1', {}, 'Alert queue'),
      h('p', { class: 'muted' }, 'Urgent first, then the longest waiting.'),
      patient
        ? h(
            'p',
            { class: 'filter-note', 'data-testid': 'alerts-patient-filter' },
            'Only ',
            h('a', { href: `#/patients/${patient}` }, patientName(cache.patients.get(patient), patient)),
            '’s alerts. ',
            h('a', { href: link({ patient: '' }) }, 'Show every patient’s'),
          )
        : null,
    ),
    h(
      'div',
      { class: 'toolbar' },
      h('nav', { class: 'tabs', 'aria-label': 'Alert status' }, ...Object.keys(STATUSES).map(tab)),
      h('div', { class: 'toolbar-right' }, h('label', { for: 'level' }, 'Level'), levelSelect, refreshButton),
    ),
    burdenPanel(burden),
    list,
    empty,
    more,
  );
}

