// The API client. Tokens live in this tab's sessionStorage only; the access token (15 minutes) is
// renewed with the refresh token shortly before it expires, or when the API answers 401.

const KEY = 'aftercare.session';
const EARLY_MS = 30_000;

let session = load();
let refreshing = null;
let onSignedOut = () => {};

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY));
  } catch {
    return null;
  }
}

function save(next) {
  session = next;
  if (next) sessionStorage.setItem(KEY, JSON.stringify(next));
  else sessionStorage.removeItem(KEY);
}

/** A failed call: the HTTP status and the problem details the API sent. */
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(describe(status, problem, retryAfter));
    this.status = status;
    this.problem = problem;
  }
}

function describe(status, problem, retryAfter) {
  if (status === 429) return `Too many attempts. Try again in ${retryAfter || 'a few'} seconds.`;
  if (status === 0) return 'The server could not be reached. Check the connection and try again.';
  if (status >= 500) return 'The server could not answer just now. Try again in a moment.';
  const detail = problem && (problem.detail || problem.title);
  return detail ? String(detail) : `The request failed (HTTP ${status}).`;
}

function fromTokens(t) {
  return {
    access: t.access_token,
    refresh: t.refresh_token,
    expiresAt: Date.now() + t.expires_in * 1000,
  };
}

async function send(method, path, body, token) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // Same-origin cookies: the sign-in's device cookie (sent to /v1/auth/login only) lets this
      // browser sign in even while others' failures lock the account.
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, null);
  }
}

async function read(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function answer(res) {
  const body = await read(res);
  if (!res.ok) throw new ApiError(res.status, body, res.headers.get('retry-after'));
  return body;
}

export function isSignedIn() {
  return session !== null;
}

/** Called once the session is gone for good (the refresh token was refused). */
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

/** Signs in; `clinic`, a clinic code, names the clinic when the email is staff at more than one. */
export async function signIn(email, password, clinic) {
  const body = clinic ? { email, password, clinic } : { email, password };
  const tokens = await answer(await send('POST', '/v1/auth/login', body));
  save(fromTokens(tokens));
}

/** Sets a new password with a one-time reset code from the clinic's admin; signs nobody in. */
export async function redeemReset(token, newPassword) {
  const res = await send('POST', '/v1/auth/password-reset', { token, new_password: newPassword });
  if (!res.ok) await answer(res);
}

export async function signOut() {
  const current = session;
  save(null);
  if (current) {
    // Revokes the refresh token; the access token runs out by itself.
    await send('POST', '/v1/auth/logout', { refresh_token: current.refresh }, current.access).catch(() => {});
  }
}

/** Renews the tokens once, however many calls ask at the same time (a refresh token works once). */
function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const current = session;
      if (!current) throw new ApiError(401, { title: 'Signed out' });
      const res = await send('POST', '/v1/auth/refresh', { refresh_token: current.refresh });
      if (res.status === 401) {
        save(null);
        onSignedOut('Your session has ended. Please sign in again.');
        throw new ApiError(401, await read(res));
      }
      save(fromTokens(await answer(res)));
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** Calls the API as the signed-in user; JSON in and out; throws an ApiError on failure. */
export async function api(method, path, body) {
  if (!session) throw new ApiError(401, { title: 'Signed out' });
  if (Date.now() > session.expiresAt - EARLY_MS) await refresh();
  const used = session.access;
  let res = await send(method, path, body, used);
  if (res.status === 401) {
    // Another call may have renewed the tokens meanwhile; renew only if none did.
    if (session && session.access === used) await refresh();
    if (!session) throw new ApiError(401, { title: 'Signed out' });
    res = await send(method, path, body, session.access);
  }
  return answer(res);
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

/** Every page of a list, up to `max` items. */
export async function getAll(path, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(`${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}
