// What the whole dashboard shares: who is signed in, the catalogue, protocols, patients' names;
// dates in the clinic's time zone; the words for alerts and protocols.

import { get, getAll } from './api.js';
import { h } from './shared/dom.js';

// ---------------------------------------------------------------------------------------------
// Numbers and words

export const pct = (x) => (x === null || x === undefined ? '—' : `${Math.round(x * 100)}%`);
export const dash = (x) => (x === null || x === undefined ? '—' : String(x));
export const humanize = (code) => code.replaceAll('_', ' ').replace(/^./, (c) => c.toUpperCase());

export function roman(n) {
  return ['I', 'II', 'III', 'IV', 'V', 'VI'][n - 1] || String(n);
}

/** Runs `work` over `items`, `limit` at a time. */
export async function eachLimited(items, limit, work) {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
    }
  });
  await Promise.all(runners);
}

// ---------------------------------------------------------------------------------------------
// Who is signed in, the catalogue, protocols, patients' names: fetched when first needed, cleared
// at sign-out

export const cache = { me: null, symptoms: null, protocols: null, patients: new Map() };

export function clearCache() {
  cache.me = null;
  cache.symptoms = null;
  cache.protocols = null;
  cache.patients.clear();
}

export async function me() {
  if (!cache.me) cache.me = await get('/v1/me');
  return cache.me;
}

const PRESENCE = [
  { value: 0, label: 'No' },
  { value: 1, label: 'Yes' },
];
const SEVERITY = ['None', 'Mild', 'Moderate', 'Severe', 'Very severe'].map((label, value) => ({ value, label }));

export async function symptoms() {
  if (!cache.symptoms) {
    const { items } = await get('/v1/symptoms');
    // The defaults' labels are what patients are asked; staff know them by their code.
    cache.symptoms = new Map(items.map((s, i) => [s.code, { ...s, name: s.default ? humanize(s.code) : s.label, order: i }]));
  }
  return cache.symptoms;
}

export function symptomOf(catalogue, code) {
  return catalogue.get(code) || { code, name: humanize(code), label: humanize(code), kind: 'severity', answers: SEVERITY, order: 999 };
}

export function answersOf(symptom) {
  if (symptom.answers && symptom.answers.length) return symptom.answers;
  return symptom.kind === 'presence' ? PRESENCE : SEVERITY;
}

export async function protocols(fresh = false) {
  if (!cache.protocols || fresh) {
    const items = await getAll('/v1/protocols');
    cache.protocols = new Map(items.map((p) => [p.id, p]));
  }
  return cache.protocols;
}

export async function patientsById(ids) {
  const missing = [...new Set(ids)].filter((id) => !cache.patients.has(id));
  await eachLimited(missing, 6, async (id) => {
    try {
      cache.patients.set(id, await get(`/v1/patients/${id}`));
    } catch {
      cache.patients.set(id, null);
    }
  });
}

export function patientName(p, id) {
  if (!p) return `Patient ${id.slice(0, 8)}`;
  return p.display_name || p.external_ref;
}

/** The patient's phone as a link that calls it, after a separator. */
export function callLink(phone, testid) {
  return h('span', { class: 'muted' }, ' · ', h('a', { class: 'call', href: `tel:${phone.replace(/[^+\d]/g, '')}`, 'data-testid': testid }, `☎ ${phone}`));
}

// Dates in the clinic's time zone, where days since treatment are counted.
function tz() {
  return cache.me ? cache.me.clinic_timezone : undefined;
}

export function formatDate(iso, withTime = false) {
  const options = withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' };
  return new Intl.DateTimeFormat(undefined, { ...options, timeZone: tz() }).format(new Date(iso));
}

function clinicDay(date) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz(), year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}

/** Days since a treatment, today, counted in the clinic's time zone (the treatment day is day 0). */
export function daysSince(iso) {
  const then = Date.parse(clinicDay(new Date(iso)));
  const now = Date.parse(clinicDay(new Date()));
  return Math.round((now - then) / 86_400_000);
}

export function ago(iso) {
  const minutes = Math.round((Date.now() - Date.parse(iso)) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

// ---------------------------------------------------------------------------------------------
// Alerts

export const RULES = {
  infection_signs: 'Signs of infection',
  fever: 'Fever',
  blisters: 'Blisters or cold sores',
  very_severe: 'A very severe symptom',
  severe_persisting: 'Severe symptom persisting',
  worsening: 'Getting worse',
  slow_recovery: 'Slow recovery',
  late_reaction: 'Late reaction',
  silent_after_bad_report: 'Silent after a bad report',
  missed_check_ins: 'Missed check-ins',
  slower_than_peers: 'Slower than peers',
};
/** What resolving an alert led to. */
export const ACTIONS = {
  contacted_patient: 'Contacted the patient',
  saw_patient: 'Saw the patient',
  changed_treatment: 'Changed the treatment',
  no_action: 'No action needed',
};
export const LEVELS = { urgent: 'Urgent', high: 'High', normal: 'Normal' };
export const STATUSES = { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved' };

export function ruleName(rule) {
  return RULES[rule] || humanize(rule);
}

/** The alert that speaks for a patient's alerts: the first urgent one, else the first high one, else the first. */
export function topAlert(alerts) {
  return alerts.find((a) => a.level === 'urgent') || alerts.find((a) => a.level === 'high') || alerts[0];
}

// ---------------------------------------------------------------------------------------------
// Protocols

/** The domain's procedures (docs/domain.md), for showing a protocol and choosing one. */
export const PROCEDURES = {
  microneedling: 'Microneedling',
  microneedling_prp: 'Microneedling with PRP',
  rf_microneedling: 'Radio-frequency microneedling',
  other: 'Other',
};

export function protocolFacts(p) {
  return [
    PROCEDURES[p.procedure] || humanize(p.procedure),
    `${p.needle_depth_mm} mm`,
    p.areas.map(humanize).join(', '),
    `${p.sessions_planned} session${p.sessions_planned > 1 ? 's' : ''}${p.sessions_planned > 1 ? `, ${p.interval_days} days apart` : ''}`,
  ].join(' · ');
}

/** The last day on which any of the protocol's treatments reported on this symptom. */
export function lastReportedDay(symptom) {
  let last = 0;
  for (const d of symptom.days) if (d.n > 0) last = d.day;
  return last;
}
