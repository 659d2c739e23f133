// SMART apps in the patient's app: the consent screen a patient's standalone launch lands on
// (#/authorize?..., the app's authorization request as the server received it), where the patient
// lets an app read their own record, or not; and "Connected apps" (#/apps), where they withdraw an
// app's access. The server decides (POST /v1/smart/authorize); this screen only asks the patient.

import { del, get, post } from './api.js';
import { say } from './dom.js';
import { formatDate, t } from './i18n.js';
import { h } from './shared/dom.js';
import { authorizationRequest, scopeReads } from './shared/smart.js';

const TYPES = ['Patient', 'Observation', 'Procedure', 'QuestionnaireResponse', 'Questionnaire', 'AdverseEvent', 'Media', 'Binary'];

/** A scope in plain words: what the app may see (`patient/Observation.rs`: "your symptom
 * scores"); none for the scopes that only ask for context (`launch/patient`). */
function scopeWords(scope) {
  const reads = scopeReads(scope);
  if (!reads) return null;
  if (reads.resource === '*') return t('smart_scope_all');
  return TYPES.includes(reads.resource) ? t(`smart_scope_${reads.resource}`) : reads.resource;
}

/** Each thing an app may see, once, in plain words. */
function plainList(scopes) {
  const words = [...new Set(scopes.map(scopeWords).filter(Boolean))];
  return h('ul', { 'data-testid': 'smart-scopes' }, ...words.map((w) => h('li', {}, w)));
}

/** The consent screen: asks the server, then shows the app and what it asks for, or goes on at once
 * (an app the patient approved before for no more than this). */
export async function authorizeScreen(params) {
  const request = authorizationRequest(params);
  const decide = (decision) => post('/v1/smart/authorize', { ...request, decision });
  const first = await decide('ask');
  if (first.redirect) {
    location.assign(first.redirect);
    return h('p', { class: 'loading' }, t('smart_opening'));
  }
  const { app, scopes } = first.consent;
  const status = h('p', { role: 'status', 'data-testid': 'smart-status' });
  const go = (decision) => async (event) => {
    const buttons = [...event.currentTarget.parentNode.querySelectorAll('button')];
    for (const b of buttons) b.disabled = true;
    try {
      const answer = await decide(decision);
      status.textContent = t(decision === 'approve' ? 'smart_opening' : 'smart_denied');
      if (answer.redirect) location.assign(answer.redirect);
    } catch (err) {
      status.textContent = err.message || t('error');
      for (const b of buttons) b.disabled = false;
    }
  };
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'smart-title', 'data-testid': 'smart-consent' },
    h('h1', { id: 'smart-title' }, t('smart_consent_title', { app })),
    h('p', {}, t('smart_consent_intro', { app })),
    plainList(scopes),
    h('p', {}, t('smart_consent_read_only')),
    h('p', {}, t('smart_consent_withdraw')),
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'button', class: 'primary', 'data-testid': 'smart-approve', onclick: go('approve') }, t('smart_allow')),
      h('button', { type: 'button', 'data-testid': 'smart-deny', onclick: go('deny') }, t('smart_deny')),
    ),
    status,
  );
}

/** "Connected apps": the apps the patient let read their record, each with a button that withdraws
 * its access (its tokens stop working at once). */
export async function appsScreen() {
  const { items } = await get('/v1/smart/authorizations');
  const list = h('ul', { class: 'apps', 'data-testid': 'smart-connected' });
  const withdraw = (item, row) => async () => {
    if (!window.confirm(t('smart_withdraw_confirm', { app: item.app_name }))) return;
    try {
      await del(`/v1/smart-apps/${item.app_id}/authorization`);
      row.remove();
      say(t('smart_withdrawn', { app: item.app_name }));
      if (!list.children.length) list.replaceWith(h('p', { 'data-testid': 'smart-none' }, t('smart_none')));
    } catch (err) {
      say(err.message || t('error'));
    }
  };
  for (const item of items) {
    const row = h(
      'li',
      { class: 'panel', 'data-testid': 'smart-connected-app', 'data-app-id': item.app_id },
      h('h2', {}, item.app_name),
      h('p', {}, t('smart_since', { date: formatDate(item.approved_at) })),
      plainList(item.scopes),
    );
    row.append(h('button', { type: 'button', 'data-testid': 'smart-withdraw', onclick: withdraw(item, row) }, t('smart_withdraw')));
    list.append(row);
  }
  return h(
    'section',
    { 'aria-labelledby': 'apps-title' },
    h('h1', { id: 'apps-title' }, t('smart_apps_title')),
    h('p', {}, t('smart_apps_intro')),
    items.length ? list : h('p', { 'data-testid': 'smart-none' }, t('smart_none')),
  );
}
