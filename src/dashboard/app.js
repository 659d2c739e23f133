// The clinicians' dashboard: sign-in, the alert queue, patients and their recovery, protocols and
// their comparison. Plain DOM, hash routes (#/alerts, #/patients/{id}, ...), the public API only.

import { ApiError, get, getAll, isSignedIn, post, signIn, signOut, whenSignedOut } from './api.js';
import { answerLabel, cohortChart, patientChart, sparkline, survivalChart } from './charts.js';

const view = document.getElementById('view');
const topbar = document.getElementById('topbar');

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Builds an element; text children are text nodes, so data never becomes markup. */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const pct = (x) => (x === null || x === undefined ? '—' : `${Math.round(x * 100)}%`);
const dash = (x) => (x === null || x === undefined ? '—' : String(x));
const humanize = (code) => code.replaceAll('_', ' ').replace(/^./, (c) => c.toUpperCase());

/** Runs `work` over `items`, `limit` at a time. */
async function eachLimited(items, limit, work) {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
    }
  });
  await Promise.all(runners);
}

let toastTimer = null;
function toast(message, kind = 'info') {
  const node = document.getElementById('toast');
  node.textContent = message;
  node.className = `toast show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    node.className = 'toast';
  }, 4000);
}

function errorPanel(err, retry) {
  return h(
    'div',
    { class: 'panel error', role: 'alert', 'data-testid': 'error' },
    h('p', {}, err instanceof ApiError ? err.message : 'Something went wrong while showing this page.'),
    retry ? h('button', { type: 'button', onclick: retry }, 'Try again') : null,
  );
}

// ---------------------------------------------------------------------------------------------
// What the whole dashboard shares: who is signed in, the catalogue, protocols, patients' names

const cache = { me: null, symptoms: null, protocols: null, patients: new Map() };

function clearCache() {
  cache.me = null;
  cache.symptoms = null;
  cache.protocols = null;
  cache.patients.clear();
}

async function me() {
  if (!cache.me) cache.me = await get('/v1/me');
  return cache.me;
}

const PRESENCE = [
  { value: 0, label: 'No' },
  { value: 1, label: 'Yes' },
];
const SEVERITY = ['None', 'Mild', 'Moderate', 'Severe', 'Very severe'].map((label, value) => ({ value, label }));

async function symptoms() {
  if (!cache.symptoms) {
    const { items } = await get('/v1/symptoms');
    // The defaults' labels are what patients are asked; staff know them by their code.
    cache.symptoms = new Map(items.map((s, i) => [s.code, { ...s, name: s.default ? humanize(s.code) : s.label, order: i }]));
  }
  return cache.symptoms;
}

function symptomOf(catalogue, code) {
  return catalogue.get(code) || { code, name: humanize(code), label: humanize(code), kind: 'severity', answers: SEVERITY, order: 999 };
}

function answersOf(symptom) {
  if (symptom.answers && symptom.answers.length) return symptom.answers;
  return symptom.kind === 'presence' ? PRESENCE : SEVERITY;
}

async function protocols(fresh = false) {
  if (!cache.protocols || fresh) {
    const items = await getAll('/v1/protocols');
    cache.protocols = new Map(items.map((p) => [p.id, p]));
  }
  return cache.protocols;
}

async function patientsById(ids) {
  const missing = [...new Set(ids)].filter((id) => !cache.patients.has(id));
  await eachLimited(missing, 6, async (id) => {
    try {
      cache.patients.set(id, await get(`/v1/patients/${id}`));
    } catch {
      cache.patients.set(id, null);
    }
  });
}

function patientName(p, id) {
  if (!p) return `Patient ${id.slice(0, 8)}`;
  return p.display_name || p.external_ref;
}

// Dates in the clinic's time zone, where days since treatment are counted.
function tz() {
  return cache.me ? cache.me.clinic_timezone : undefined;
}

function formatDate(iso, withTime = false) {
  const options = withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' };
  return new Intl.DateTimeFormat(undefined, { ...options, timeZone: tz() }).format(new Date(iso));
}

function clinicDay(date) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz(), year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}

/** Days since a treatment, today, counted in the clinic's time zone (the treatment day is day 0). */
function daysSince(iso) {
  const then = Date.parse(clinicDay(new Date(iso)));
  const now = Date.parse(clinicDay(new Date()));
  return Math.round((now - then) / 86_400_000);
}

function ago(iso) {
  const minutes = Math.round((Date.now() - Date.parse(iso)) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

// ---------------------------------------------------------------------------------------------
// Routing

let renderSeq = 0;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/alerts';
  const [path, query = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query) };
}

function setNav(section) {
  for (const a of topbar.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
  if (!isSignedIn()) {
    renderLogin();
    return;
  }
  const seq = ++renderSeq;
  const { parts, params } = parseHash();
  const section = parts[0] || 'alerts';
  topbar.hidden = false;
  setNav(section);
  const screens = {
    alerts: () => alertsScreen(params),
    patients: () => (parts[1] ? patientScreen(parts[1], params) : patientsScreen()),
    protocols: () => (parts[1] ? protocolScreen(parts[1], params) : protocolsScreen()),
    compare: () => compareScreen(params),
  };
  const screen = screens[section];
  if (!screen) {
    location.hash = '#/alerts';
    return;
  }
  view.replaceChildren(h('p', { class: 'loading', 'data-testid': 'loading' }, 'Loading…'));
  try {
    const who = await me();
    document.getElementById('clinic-name').textContent = who.clinic_name;
    const node = await screen();
    if (seq !== renderSeq) return;
    view.replaceChildren(node);
  } catch (err) {
    if (seq !== renderSeq || !isSignedIn()) return;
    view.replaceChildren(errorPanel(err, route));
  }
}

// ---------------------------------------------------------------------------------------------
// Sign-in

function renderLogin(message) {
  ++renderSeq;
  topbar.hidden = true;
  document.title = 'Sign in · Aftercare';
  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'login-error' }, message || '');
  const email = h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true, 'data-testid': 'login-email' });
  const password = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    'data-testid': 'login-password',
  });
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'login-submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'login-form', 'data-testid': 'login-form', method: 'post', novalidate: true },
    h('label', { for: 'email' }, 'Email'),
    email,
    h('label', { for: 'password' }, 'Password'),
    password,
    error,
    button,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!email.value || !password.value) {
      error.textContent = 'Enter your email and password.';
      return;
    }
    button.disabled = true;
    error.textContent = '';
    try {
      await signIn(email.value.trim(), password.value);
      clearCache();
      const who = await me();
      if (who.role === 'patient') {
        await signOut();
        throw new Error('This dashboard is for clinic staff.');
      }
      if (!location.hash || location.hash === '#/login') location.hash = '#/alerts';
      else route();
    } catch (err) {
      error.textContent =
        err instanceof ApiError && err.status === 401 ? 'The email or password is not right.' : err.message;
      button.disabled = false;
      password.select();
    }
  });
  view.replaceChildren(
    h(
      'div',
      { class: 'login' },
      h(
        'div',
        { class: 'login-card' },
        h('div', { class: 'login-brand' }, h('img', { src: '/dashboard/favicon.svg', alt: '', width: 36, height: 36 }), 'Aftercare'),
        h('h1', {}, 'Clinician dashboard'),
        h('p', { class: 'muted' }, 'Sign in with your clinic account to see alerts and your patients’ recovery.'),
        form,
      ),
    ),
  );
  email.focus();
}

// ---------------------------------------------------------------------------------------------
// The alert queue

const RULES = {
  infection_signs: 'Signs of infection',
  fever: 'Fever',
  blisters: 'Blisters or cold sores',
  very_severe: 'A very severe symptom',
  severe_persisting: 'Severe symptom persisting',
  worsening: 'Getting worse',
  slow_recovery: 'Slow recovery',
  late_reaction: 'Late reaction',
  missed_check_ins: 'Missed check-ins',
  slower_than_peers: 'Slower than peers',
};
const LEVELS = { urgent: 'Urgent', high: 'High', normal: 'Normal' };
const STATUSES = { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved' };

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

function alertRow(alert, catalogue, myId, onChange) {
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
        h('strong', { 'data-testid': 'alert-rule' }, RULES[alert.rule] || humanize(alert.rule)),
        h('span', { class: 'muted' }, ` · day ${alert.day} after treatment`),
      ),
      h(
        'div',
        { class: 'alert-patient' },
        h('a', { href: `#/patients/${alert.patient_id}`, 'data-testid': 'alert-patient' }, patientName(patient, alert.patient_id)),
        patient && patient.display_name ? h('span', { class: 'muted' }, ` · ${patient.external_ref}`) : null,
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

  if (alert.status === 'open') {
    const about = `${RULES[alert.rule] || humanize(alert.rule)}, ${patientName(patient, alert.patient_id)}`;
    const ack = h('button', { type: 'button', 'aria-label': `Acknowledge: ${about}`, 'data-testid': 'alert-ack' }, 'Acknowledge');
    ack.addEventListener('click', () => act(ack, () => post(`/v1/alerts/${alert.id}/acknowledge`), 'Alert acknowledged'));
    actions.append(ack);
  }
  if (alert.status !== 'resolved') {
    const open = h(
      'button',
      { type: 'button', 'aria-label': `Resolve: ${RULES[alert.rule] || humanize(alert.rule)}, ${patientName(patient, alert.patient_id)}`, 'data-testid': 'alert-resolve' },
      'Resolve…',
    );
    const noteId = `note-${alert.id}`;
    const note = h('textarea', { id: noteId, rows: 3, maxlength: 2000, required: true, 'data-testid': 'alert-note' });
    const confirm = h('button', { type: 'submit', class: 'primary', 'data-testid': 'alert-resolve-confirm' }, 'Resolve alert');
    const cancel = h('button', { type: 'button', class: 'link' }, 'Cancel');
    const form = h(
      'form',
      { class: 'resolve-form', hidden: true, 'data-testid': 'alert-resolve-form' },
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
      if (!text) {
        toast('Write what was done before resolving.', 'error');
        note.focus();
        return;
      }
      act(confirm, () => post(`/v1/alerts/${alert.id}/resolve`, { note: text }), 'Alert resolved');
    });
    actions.append(open);
    row.querySelector('.alert-main').append(form);
  }
  return row;
}

async function alertsScreen(params) {
  document.title = 'Alerts · Aftercare';
  const status = STATUSES[params.get('status')] ? params.get('status') : 'open';
  const level = LEVELS[params.get('level')] ? params.get('level') : '';
  const patient = /^[0-9a-f-]{36}$/i.test(params.get('patient') || '') ? params.get('patient') : '';
  const [catalogue, who] = await Promise.all([symptoms(), me()]);
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
  const query = (cursor) =>
    `/v1/alerts?status=${status}${level ? `&level=${level}` : ''}${patient ? `&patient_id=${patient}` : ''}&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
  const list = h('ol', { class: 'alerts', 'data-testid': 'alert-list', 'aria-label': `${STATUSES[status]} alerts` });
  const more = h('button', { type: 'button', hidden: true }, 'Show more');
  const empty = h('p', { class: 'panel empty', hidden: true, 'data-testid': 'alerts-empty' }, `No ${status} alerts.`);
  let cursor = null;

  const replace = (row, updated) => {
    row.replaceWith(alertRow(updated, catalogue, who.user_id, replace));
  };
  const load = async () => {
    const page = await get(query(cursor));
    await patientsById(page.items.map((a) => a.patient_id));
    for (const alert of page.items) list.append(alertRow(alert, catalogue, who.user_id, replace));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    empty.hidden = list.children.length > 0;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      await load();
    } catch (err) {
      toast(err.message, 'error');
    }
    more.disabled = false;
  });
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
  const refresh = h('button', { type: 'button', onclick: () => route() }, 'Refresh');
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
      h('div', { class: 'toolbar-right' }, h('label', { for: 'level' }, 'Level'), levelSelect, refresh),
    ),
    list,
    empty,
    more,
  );
}

// ---------------------------------------------------------------------------------------------
// Patients

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

async function patientsScreen() {
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
            const top = alerts.find((a) => a.level === 'urgent') || alerts.find((a) => a.level === 'high') || alerts[0];
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
  const more = h('button', { type: 'button', hidden: true }, 'Show more patients');
  let cursor = null;

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

  const load = async () => {
    const page = await get(`/v1/patients?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    const pending = [];
    for (const p of page.items) {
      cache.patients.set(p.id, p);
      const alerts = openByPatient.get(p.id) || [];
      const top = alerts.find((a) => a.level === 'urgent') || alerts.find((a) => a.level === 'high') || alerts[0];
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
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      await load();
    } catch (err) {
      toast(err.message, 'error');
    }
    more.disabled = false;
  });
  await load();

  const stat = (label, value, testid, note) =>
    h('div', { class: 'stat', 'data-testid': testid }, h('div', { class: 'stat-value' }, value), h('div', { class: 'stat-label' }, label), note ? h('div', { class: 'muted small' }, note) : null);
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
          { class: 'table-wrap' },
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

function roman(n) {
  return ['I', 'II', 'III', 'IV', 'V', 'VI'][n - 1] || String(n);
}

// ---------------------------------------------------------------------------------------------
// One patient

function legend(items) {
  return h(
    'ul',
    { class: 'legend', 'aria-label': 'Legend' },
    ...items.map(([cls, label]) => h('li', {}, h('span', { class: `key ${cls}`, 'aria-hidden': 'true' }), label)),
  );
}

function symptomStatus(s) {
  const chips = [];
  if (s.slower_than_usual) chips.push(h('span', { class: 'chip warn', 'data-testid': 'symptom-slower' }, 'Slower than usual'));
  if (s.resolved_day !== null && s.resolved_day !== undefined) chips.push(h('span', { class: 'chip ok' }, `Resolved on day ${s.resolved_day}`));
  else if (s.censored_at !== null && s.censored_at !== undefined) chips.push(h('span', { class: 'chip' }, `Not resolved by day ${s.censored_at}`));
  return chips;
}

function dataTable(s, answers) {
  return h(
    'details',
    { class: 'data' },
    h('summary', {}, 'Daily figures'),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day'), h('th', { scope: 'col' }, 'Patient'), h('th', { scope: 'col' }, 'Cohort median'), h('th', { scope: 'col' }, '90% at or below'))),
      h(
        'tbody',
        {},
        ...s.days.map((d) =>
          h(
            'tr',
            {},
            h('td', {}, String(d.day)),
            h('td', {}, answerLabel(answers, d.score)),
            h('td', {}, d.cohort_median === null || d.cohort_median === undefined ? '—' : answerLabel(answers, d.cohort_median)),
            h('td', {}, d.cohort_p90 === null || d.cohort_p90 === undefined ? '—' : answerLabel(answers, d.cohort_p90)),
          ),
        ),
      ),
    ),
  );
}

async function patientScreen(id, params) {
  const [catalogue, protos, patient, recovery, treatments, open] = await Promise.all([
    symptoms(),
    protocols(),
    get(`/v1/patients/${id}`),
    get(`/v1/patients/${id}/recovery`),
    getAll(`/v1/patients/${id}/treatments`),
    get(`/v1/alerts?status=open&patient_id=${id}&limit=50`),
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
  ].filter(Boolean);

  const head = h(
    'div',
    { class: 'screen-head' },
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/patients' }, 'Patients'), ' › ', name),
    h('h1', { 'data-testid': 'patient-name' }, name),
    h('p', { class: 'muted' }, facts.join(' · ')),
  );
  const alertsNote = open.items.length
    ? h(
        'div',
        { class: 'panel attention', 'data-testid': 'patient-alerts' },
        h('strong', {}, `${open.items.length} open alert${open.items.length > 1 ? 's' : ''}: `),
        open.items.map((a) => `${RULES[a.rule] || humanize(a.rule)} (${LEVELS[a.level]}, day ${a.day})`).join('; '),
        ' ',
        h('a', { href: `#/alerts?status=open&patient=${id}` }, 'Acknowledge or resolve them'),
      )
    : null;

  if (!chosen) {
    return h('section', { class: 'screen', 'data-testid': 'patient-screen' }, head, alertsNote, h('p', { class: 'panel empty' }, 'No treatments recorded yet.'));
  }

  const protocol = protos.get(chosen.protocol_id);
  const detail = details.get(chosen.treatment_id);
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
    const hasCohort = s.days.some((d) => d.cohort_p90 !== null && d.cohort_p90 !== undefined);
    return h(
      'article',
      { class: 'card chart-card', 'data-testid': `chart-${s.code}`, 'data-symptom': s.code },
      h(
        'div',
        { class: 'card-head' },
        h('div', {}, h('h2', {}, symptom.name), symptom.label !== symptom.name ? h('div', { class: 'muted small' }, symptom.label) : null),
        h('div', { class: 'chips' }, symptomStatus(s)),
      ),
      patientChart({ label: symptom.name, days: s.days, answers, lastDay }),
      hasCohort ? null : h('p', { class: 'muted small' }, 'The cohort’s figures show on days that 20 or more treatments of this protocol reported.'),
      dataTable(s, answers),
    );
  });

  return h(
    'section',
    { class: 'screen', 'data-testid': 'patient-screen' },
    head,
    alertsNote,
    picker,
    summary,
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
  );
}

// ---------------------------------------------------------------------------------------------
// Protocols

const PROCEDURES = {
  microneedling: 'Microneedling',
  microneedling_prp: 'Microneedling with PRP',
  rf_microneedling: 'Radio-frequency microneedling',
  other: 'Other',
};

function protocolFacts(p) {
  return [
    PROCEDURES[p.procedure] || humanize(p.procedure),
    `${p.needle_depth_mm} mm`,
    p.areas.map(humanize).join(', '),
    `${p.sessions_planned} session${p.sessions_planned > 1 ? 's' : ''}${p.sessions_planned > 1 ? `, ${p.interval_days} days apart` : ''}`,
  ].join(' · ');
}

async function protocolsScreen() {
  document.title = 'Protocols · Aftercare';
  const protos = [...(await protocols(true)).values()];
  return h(
    'section',
    { class: 'screen', 'data-testid': 'protocols-screen' },
    h(
      'div',
      { class: 'screen-head split' },
      h('div', {}, h('h1', {}, 'Protocols'), h('p', { class: 'muted' }, 'How patients recover after each protocol.')),
      protos.length > 1 ? h('a', { class: 'button', href: '#/compare', 'data-testid': 'go-compare' }, 'Compare two protocols') : null,
    ),
    protos.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { 'data-testid': 'protocol-table' },
            h('caption', { class: 'sr-only' }, 'Protocols'),
            h(
              'thead',
              {},
              h('tr', {}, h('th', { scope: 'col' }, 'Protocol'), h('th', { scope: 'col' }, 'Procedure'), h('th', { scope: 'col' }, 'Check-in days')),
            ),
            h(
              'tbody',
              {},
              ...protos.map((p) =>
                h(
                  'tr',
                  { 'data-testid': 'protocol-row', 'data-protocol-id': p.id },
                  h('th', { scope: 'row' }, h('a', { href: `#/protocols/${p.id}`, 'data-testid': 'protocol-link' }, p.name)),
                  h('td', {}, protocolFacts(p)),
                  h('td', { class: 'muted' }, p.check_in_days.join(', ')),
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'panel empty' }, 'No protocols yet.'),
  );
}

function lastReportedDay(symptom) {
  let last = 0;
  for (const d of symptom.days) if (d.n > 0) last = d.day;
  return last;
}

async function protocolScreen(id, params) {
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

  const stat = (label, value, testid) => h('div', { class: 'stat', 'data-testid': testid }, h('div', { class: 'stat-value' }, value), h('div', { class: 'stat-label' }, label));
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
      h('a', { class: 'button', href: `#/compare?ids=${id}` }, 'Compare with…'),
    ),
    h(
      'div',
      { class: 'stats' },
      stat('Treatments', String(recovery.treatments), 'stat-treatments'),
      stat('Check-in adherence', pct(recovery.adherence), 'stat-adherence'),
      stat('Complications per 100 treatments', recovery.complications.length ? recovery.complications.reduce((a, c) => a + c.per_100_treatments, 0).toFixed(1) : '0', 'stat-complications'),
    ),
    reported.length
      ? [h('h2', { class: 'section-title' }, 'Symptoms'), h('p', { class: 'muted small' }, 'Choose a symptom to see its curves.'), h('div', { class: 'table-wrap' }, table), chartArea]
      : h('p', { class: 'panel empty' }, 'No symptoms reported after this protocol yet.'),
    recovery.complications.length
      ? [
          h('h2', { class: 'section-title' }, 'Complications'),
          h(
            'div',
            { class: 'table-wrap' },
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

// ---------------------------------------------------------------------------------------------
// Two protocols compared

async function compareScreen(params) {
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
          h('div', { class: 'table-wrap' }, table),
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

// ---------------------------------------------------------------------------------------------
// Start

whenSignedOut((message) => {
  clearCache();
  renderLogin(message);
});

document.getElementById('sign-out').addEventListener('click', async () => {
  await signOut();
  clearCache();
  history.replaceState(null, '', '#/alerts');
  renderLogin('You have signed out.');
});

window.addEventListener('hashchange', route);
route();
