// The API client. The phone is the patient's own, so the tokens stay in localStorage across
// visits; the access token is renewed with the refresh token shortly before it expires, or when
// the API answers 401. A refused refresh token signs the phone out.

const KEY = 'aftercare.app.session';
const EARLY_MS = 30_000;

let session = load();
let refreshing = null;
let onSignedOut = () => {};

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY));
  } catch {
    return null;
  }
}

function save(next) {
  session = next;
  if (next) localStorage.setItem(KEY, JSON.stringify(next));
  else localStorage.removeItem(KEY);
}

/** A failed call: the HTTP status (0 when the server could not be reached) and its problem. */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  get offline() {
    return this.status === 0;
  }
}

function fromTokens(t) {
  return { access: t.access_token, refresh: t.refresh_token, expiresAt: Date.now() + t.expires_in * 1000, patientId: t.patient_id };
}

async function send(method, path, body, token) {
  if (!navigator.onLine) throw new ApiError(0, null);
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ApiError(0, null);
  }
}

async function answer(res) {
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

export function isSignedIn() {
  return session !== null;
}

export function patientId() {
  return session && session.patientId;
}

/** Called once the session is gone for good (the refresh token was refused). */
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

/** Connects this phone with the code the clinic gave. A session already on the phone (from an
 * earlier link) gives way to the new one and is signed out, so that its tokens and its reminders end. */
export async function enroll(code) {
  const next = fromTokens(await answer(await send('POST', '/v1/auth/enroll', { code })));
  const previous = session;
  save(next);
  if (previous) await revoke(previous).catch(() => {});
}

/** Signs `old` out on the server, with an access token renewed first when its own has run out. */
async function revoke(old) {
  let access = old.access;
  if (Date.now() > old.expiresAt - EARLY_MS) {
    const renewed = await send('POST', '/v1/auth/refresh', { refresh_token: old.refresh });
    if (!renewed.ok) return; // Ended already.
    access = (await answer(renewed)).access_token;
  }
  // The used refresh token still names its sign-in, which the server ends whole.
  await send('POST', '/v1/auth/logout', { refresh_token: old.refresh }, access);
}

/** Revokes the refresh token (when the network allows) and forgets the session. */
export async function signOut() {
  const current = session;
  save(null);
  if (current) await send('POST', '/v1/auth/logout', { refresh_token: current.refresh }, current.access).catch(() => {});
}

/** Renews the tokens once, however many calls ask at the same time (a refresh token works once). */
function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const current = session;
      if (!current) throw new ApiError(401, null);
      const res = await send('POST', '/v1/auth/refresh', { refresh_token: current.refresh });
      // A session that gave way to another meanwhile (a new link followed) neither ends nor comes back.
      if (session !== current) return;
      if (res.status === 401) {
        save(null);
        onSignedOut();
        throw new ApiError(401, null);
      }
      save({ ...fromTokens(await answer(res)), patientId: current.patientId });
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** Calls the API as this phone's patient; JSON in and out; throws an ApiError on failure. */
export async function api(method, path, body) {
  if (!session) throw new ApiError(401, null);
  if (Date.now() > session.expiresAt - EARLY_MS) await refresh();
  const used = session.access;
  let res = await send(method, path, body, used);
  if (res.status === 401) {
    if (session && session.access === used) await refresh();
    if (!session) throw new ApiError(401, null);
    res = await send(method, path, body, session.access);
  }
  return answer(res);
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const del = (path) => api('DELETE', path);
