// The sign-in screen: clinic staff only; patients are turned away.

import { ApiError, signIn, signOut } from './api.js';
import { h } from './dom.js';
import { clearCache, me } from './shared.js';

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
      if (!location.hash || location.hash === '#/login') location.hash = '#/worklist';
      else onSignedIn();
    } catch (err) {
      error.textContent =
        err instanceof ApiError && err.status === 401 ? 'The email or password is not right.' : err.message;
      button.disabled = false;
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
      form,
    ),
  );
}
