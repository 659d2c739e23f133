// The sign-in screen: clinic staff only; patients are turned away. Staff who work at more than one
// clinic are asked for their clinic's code (the API answers 409 without one); this browser
// remembers the code each email last signed in with and offers it the next time.

import { redeemReset, signIn, signOut } from './api.js';
import { clearCache, me } from './shared.js';
import { ApiError } from './shared/api.js';
import { h } from './shared/dom.js';

const CODES = 'aftercare.clinicCodes';
const emailKey = (email) => email.trim().toLowerCase();

/** The clinic code each email last signed in with, in this browser. */
function rememberedCodes() {
  try {
    return JSON.parse(localStorage.getItem(CODES)) || {};
  } catch {
    return {};
  }
}

function rememberCode(email, code) {
  const codes = rememberedCodes();
  codes[emailKey(email)] = code;
  try {
    localStorage.setItem(CODES, JSON.stringify(codes));
  } catch {
    // Storage full or refused: the code is asked for again next time.
  }
}

/** The sign-in form, with `message` above the button; `onSignedIn` shows the screen asked for. */
export function loginScreen(message, onSignedIn) {
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
  const clinic = h('input', {
    id: 'clinic-code',
    name: 'clinic',
    autocomplete: 'off',
    autocapitalize: 'characters',
    spellcheck: 'false',
    maxlength: 16,
    'aria-describedby': 'clinic-code-hint',
    'data-testid': 'login-clinic',
  });
  const clinicParts = [
    h('label', { for: 'clinic-code' }, 'Clinic code'),
    clinic,
    h('p', { id: 'clinic-code-hint', class: 'hint muted small' }, 'Your email is staff at more than one clinic: give the code of the one to sign in to. Your admin finds it under Settings.'),
  ];
  // The emails the API asked a clinic code of, on this screen.
  const asked = new Set();
  const showClinic = (shown) => clinicParts.forEach((part) => (part.hidden = !shown));
  const clinicShown = () => !clinic.hidden;
  // The field is shown for an email that needs a code, with the code it last used here.
  const matchEmail = () => {
    const key = emailKey(email.value);
    const known = rememberedCodes()[key];
    clinic.value = known || '';
    showClinic(Boolean(known) || asked.has(key));
  };
  matchEmail();
  email.addEventListener('input', matchEmail);
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'login-submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'login-form', 'data-testid': 'login-form', method: 'post', novalidate: true },
    h('label', { for: 'email' }, 'Email'),
    email,
    h('label', { for: 'password' }, 'Password'),
    password,
    clinicParts,
    error,
    button,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!email.value || !password.value) {
      error.textContent = 'Enter your email and password.';
      return;
    }
    const code = clinicShown() ? clinic.value.trim() : '';
    if (clinicShown() && !code) {
      error.textContent = 'Enter your clinic’s code.';
      clinic.focus();
      return;
    }
    // The form of a code (domain/clinic.rs), checked here: the API answers any code that names no
    // clinic as it answers a wrong password.
    if (code && !/^[ABCDEFGHJKMNPQRSTVWXYZ23456789]{6}$/.test(code.toUpperCase().replace(/[ -]/g, ''))) {
      error.textContent = 'The clinic code is 6 letters and digits, such as K7QM4X.';
      clinic.select();
      return;
    }
    button.disabled = true;
    error.textContent = '';
    try {
      await signIn(email.value.trim(), password.value, code || undefined);
      if (code) rememberCode(email.value, code.toUpperCase());
      clearCache();
      const who = await me();
      if (who.role === 'patient') {
        await signOut();
        throw new Error('This dashboard is for clinic staff.');
      }
      if (!location.hash || location.hash === '#/login') location.hash = '#/worklist';
      else onSignedIn();
    } catch (err) {
      button.disabled = false;
      if (err instanceof ApiError && err.status === 409) {
        asked.add(emailKey(email.value));
        showClinic(true);
        error.textContent = 'This email is staff at more than one clinic. Enter the code of the clinic to sign in to.';
        clinic.focus();
        return;
      }
      const field = err instanceof ApiError && err.status === 422 ? err.problem?.errors?.[0] : null;
      if (field?.field === 'clinic') {
        error.textContent = 'The clinic code is 6 letters and digits, such as K7QM4X.';
        clinic.select();
        return;
      }
      const wrong = code ? 'The email, password or clinic code is not right.' : 'The email or password is not right.';
      error.textContent = err instanceof ApiError && err.status === 401 ? wrong : err.message;
      password.select();
    }
  });
  return h(
    'div',
    { class: 'login' },
    h(
      'div',
      { class: 'login-card' },
      h('div', { class: 'login-brand' }, h('img', { src: '/dashboard/favicon.svg', alt: '', width: 36, height: 36 }), 'Aftercare'),
      h('h1', {}, 'Clinician dashboard'),
      h('p', { class: 'muted' }, 'Sign in with your clinic account to see alerts and your patients’ recovery.'),
      forPatients(),
      form,
      resetForm(error, password),
    ),
  );
}

/** On an app's authorization request (#/authorize?...): the way for a patient, whose browser has
 * no connected Aftercare app, to decide in the app, connecting it first. */
function forPatients() {
  if (!location.hash.startsWith('#/authorize')) return null;
  return h(
    'p',
    { class: 'panel', 'data-testid': 'login-patient-app' },
    'An app asks to read Aftercare data. Clinic staff: sign in below to decide. A patient: ',
    h('a', { href: `/app/${location.hash}`, 'data-testid': 'login-patient-app-link' }, 'decide in the Aftercare app'),
    '.',
  );
}

/** A one-time reset code from the clinic's admin (Settings, "Reset password") sets a new password;
 * the staff member then signs in with it above. */
function resetForm(signInError, signInPassword) {
  const code = h('input', { id: 'reset-code', name: 'token', autocomplete: 'one-time-code', required: true, 'data-testid': 'reset-code' });
  const fresh = h('input', { id: 'reset-password', name: 'new_password', type: 'password', autocomplete: 'new-password', required: true, 'aria-describedby': 'reset-hint', 'data-testid': 'reset-password' });
  const status = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'reset-error' });
  const button = h('button', { type: 'submit', 'data-testid': 'reset-submit' }, 'Set the new password');
  const form = h(
    'form',
    { class: 'login-form', method: 'post', novalidate: true },
    h('label', { for: 'reset-code' }, 'Reset code'),
    code,
    h('label', { for: 'reset-password' }, 'New password'),
    fresh,
    h('p', { id: 'reset-hint', class: 'hint muted small' }, 'At least 12 characters and hard to guess: a few unrelated words work well.'),
    status,
    button,
  );
  const details = h('details', { class: 'reset', 'data-testid': 'reset' }, h('summary', {}, 'Have a reset code from your admin?'), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!code.value.trim() || !fresh.value) {
      status.textContent = 'Enter the code and a new password.';
      return;
    }
    button.disabled = true;
    status.textContent = '';
    try {
      await redeemReset(code.value.trim(), fresh.value);
      details.open = false;
      form.reset();
      signInError.textContent = 'Your new password is set. Sign in with it.';
      signInPassword.focus();
    } catch (err) {
      const field = err instanceof ApiError ? err.problem?.errors?.[0]?.message : null;
      status.textContent =
        err instanceof ApiError && err.status === 401 ? 'That code does not work: it may have been used or run out. Ask your admin for a new one.' : field || err.message;
    } finally {
      button.disabled = false;
    }
  });
  return details;
}
