// The dashboard's API client, made from the shared one (shared/api.js). Tokens live in this tab's
// sessionStorage only; the browser's same-origin cookies go along (the sign-in's device cookie, sent
// to /v1/auth/login only, lets this browser sign in even while others' failures lock the account);
// a failure is put in words a clinician can act on.

import { client } from './shared/api.js';

function describe(status, problem, retryAfter) {
  if (status === 429) return `Too many attempts. Try again in ${retryAfter || 'a few'} seconds.`;
  if (status === 0) return 'The server could not be reached. Check the connection and try again.';
  if (status >= 500) return 'The server could not answer just now. Try again in a moment.';
  const detail = problem && (problem.detail || problem.title);
  return detail ? String(detail) : `The request failed (HTTP ${status}).`;
}

const staff = client({ storage: sessionStorage, key: 'aftercare.session', credentials: 'same-origin', describe });

export const { api, get, post, put, del, getAll, blob, isSignedIn, signOut, whenSignedOut } = staff;

/** Signs in; `clinic`, a clinic code, names the clinic when the email is staff at more than one. */
export async function signIn(email, password, clinic) {
  const body = clinic ? { email, password, clinic } : { email, password };
  staff.begin(await staff.withoutToken('POST', '/v1/auth/login', body));
}

/** Sets a new password with a one-time reset code from the clinic's admin; signs nobody in. */
export async function redeemReset(token, newPassword) {
  await staff.withoutToken('POST', '/v1/auth/password-reset', { token, new_password: newPassword });
}
