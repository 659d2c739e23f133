// Connecting this phone: from the link's `#code=...` (read once, then cleared from the address
// bar and history) or a code typed by hand.

import { enroll } from './api.js';
import { t } from './i18n.js';
import { ApiError } from './shared/api.js';
import { h } from './shared/dom.js';

/** The code in the address's fragment, if any; the fragment is cleared either way. */
export function codeFromLink() {
  const match = location.hash.match(/^#code=([^&]+)/);
  if (!match) return null;
  history.replaceState(null, '', location.pathname);
  return decodeURIComponent(match[1]);
}

/** Enrolls with `code`; the message to show when it fails, or null. */
export async function tryEnroll(code) {
  try {
    await enroll(code.trim());
    return null;
  } catch (err) {
    if (err instanceof ApiError && err.offline) return t('offline_needed');
    if (err instanceof ApiError && (err.status === 401 || err.status === 422)) return t('enroll_refused');
    return t('error');
  }
}

export function enrollScreen(message, done) {
  const input = h('input', {
    id: 'code', name: 'code', autocomplete: 'one-time-code', autocapitalize: 'characters', spellcheck: 'false',
    required: true, maxlength: 32, 'aria-describedby': 'code-hint', 'data-testid': 'enroll-code',
  });
  const error = h('p', { class: 'panel error', role: 'alert', 'data-testid': 'enroll-error', hidden: !message }, message || '');
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'enroll-submit' }, t('enroll_submit'));
  const form = h(
    'form',
    { class: 'panel', 'data-testid': 'enroll-form', novalidate: true },
    h('label', { for: 'code' }, t('enroll_code')),
    input,
    h('p', { id: 'code-hint', class: 'hint' }, t('enroll_hint')),
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!input.value.trim()) return input.focus();
    submit.disabled = true;
    submit.textContent = t('enroll_working');
    const failed = await tryEnroll(input.value);
    submit.disabled = false;
    submit.textContent = t('enroll_submit');
    if (!failed) return done();
    error.textContent = failed;
    error.hidden = false;
  });
  // An app's authorization request waits in the address for the phone to be connected.
  const forApp = location.hash.startsWith('#/authorize') ? h('p', { class: 'panel', 'data-testid': 'enroll-for-app' }, t('enroll_for_app')) : null;
  return h('section', { 'aria-labelledby': 'enroll-title' }, h('h1', { id: 'enroll-title' }, t('enroll_title')), forApp, h('p', {}, t('enroll_intro')), error, form);
}
