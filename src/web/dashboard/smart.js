// SMART App Launch in the dashboard: the consent page an app's authorization request lands on
// (#/authorize?..., the request as the authorization endpoint received it), where the signed-in
// user approves or denies the app (an app approved before for these scopes passes at once), and
// the "Open in an app" buttons of a patient's page (an EHR launch: the app opens with iss and launch).

import { get, post } from './api.js';
import { toast } from './dom.js';
import { patientName } from './shared.js';
import { h } from './shared/dom.js';
import { authorizationRequest, scopeReads } from './shared/smart.js';

const RESOURCE_WORDS = {
  Patient: 'details (name, year of birth, record number)',
  Observation: 'symptom scores from check-ins',
  Procedure: 'treatments',
  QuestionnaireResponse: 'check-in answers',
  AdverseEvent: 'recorded complications',
  Media: 'photos',
  Binary: 'photos',
};

/** A scope in words a clinician reads at a glance; null for the ones that only ask for context. */
function scopeWords(scope) {
  if (scope === 'openid' || scope === 'fhirUser') return 'Who you are (your name and role)';
  if (scope === 'offline_access') return 'To go on reading after you close it, until an admin revokes its access';
  if (scope === 'online_access' || scope.startsWith('launch')) return null;
  const reads = scopeReads(scope);
  if (reads?.resource === '*') return reads.whose === 'patient' ? 'Everything in the patient’s record' : 'Everything in the records you may see';
  if (reads?.resource === 'Questionnaire') return 'The check-in questions';
  const what = reads && RESOURCE_WORDS[reads.resource];
  if (!what) return scope;
  return reads.whose === 'patient' ? `The patient’s ${what}` : `${what[0].toUpperCase()}${what.slice(1)}, of every patient you may see`;
}

/** Each thing the app asks for, once, in words, with the scopes that ask for it. */
function scopeList(scopes) {
  const asked = new Map();
  for (const scope of scopes) {
    const words = scopeWords(scope);
    if (words) asked.set(words, [...(asked.get(words) || []), scope]);
  }
  const codes = (list) => list.flatMap((c, i) => [i ? ' ' : '', h('code', {}, c)]);
  return h('ul', { 'data-testid': 'smart-scopes' }, ...[...asked].map(([words, of]) => h('li', {}, `${words} `, h('span', { class: 'muted' }, ...codes(of)))));
}

/** The consent page: asks the server, then shows the app and its scopes, or goes on at once. */
export async function authorizeScreen(params) {
  const request = authorizationRequest(params);
  const decide = async (decision, patient) => {
    const body = { ...request, decision };
    if (patient) body.patient = patient;
    return post('/v1/smart/authorize', body);
  };
  const first = await decide('ask');
  if (first.redirect) {
    location.assign(first.redirect);
    return h('p', { class: 'loading' }, 'Opening the app…');
  }
  const { app, scopes, needs_patient: needsPatient } = first.consent;
  let chooser = null;
  if (needsPatient) {
    const patients = await get('/v1/patients?limit=100');
    chooser = h(
      'select',
      { id: 'smart-patient', 'data-testid': 'smart-patient', required: true },
      h('option', { value: '' }, 'Choose the patient…'),
      ...patients.items.map((p) => h('option', { value: p.id }, patientName(p, p.id))),
    );
  }
  const go = (decision) => async () => {
    const patient = chooser ? chooser.value : null;
    if (decision === 'approve' && chooser && !patient) {
      toast('Choose the patient the app opens.', 'error');
      return;
    }
    const answer = await decide(decision, patient);
    if (answer.redirect) location.assign(answer.redirect);
  };
  return h(
    'section',
    { class: 'screen', 'data-testid': 'smart-consent' },
    h('h1', {}, `Allow ${app} to read Aftercare data?`),
    h('p', {}, 'The app asks for:'),
    scopeList(scopes),
    chooser ? h('label', { for: 'smart-patient' }, 'Patient ', chooser) : null,
    h('p', { class: 'muted' }, 'You approve this app once; it is asked again only for more than this. An admin can revoke its access in Settings.'),
    h(
      'div',
      { class: 'form-buttons' },
      h('button', { type: 'button', class: 'primary', 'data-testid': 'smart-approve', onclick: go('approve') }, 'Allow'),
      h('button', { type: 'button', 'data-testid': 'smart-deny', onclick: go('deny') }, 'Deny'),
    ),
  );
}

/** "Open in an app" on a patient's page: one button per registered app with a launch URL. */
export async function appLaunchers(patientId) {
  const apps = (await get('/v1/smart-apps')).items.filter((a) => a.launch_url);
  if (!apps.length) return null;
  const open = (app) => async () => {
    const launch = await post(`/v1/smart-apps/${app.id}/launches`, { patient_id: patientId });
    window.open(launch.url, '_blank', 'noopener');
  };
  return h(
    'div',
    { class: 'panel', 'data-testid': 'smart-apps' },
    h('strong', {}, 'Open in an app: '),
    ...apps.map((a) => h('button', { type: 'button', 'data-testid': 'smart-launch', onclick: open(a) }, a.name)),
  );
}
