// The API client both front ends call the API with: JSON in and out, and one signed-in session
// whose access token is renewed with its refresh token shortly before it expires, or when the API
// answers 401. A refused refresh token ends the session for good. Each front end makes its own
// client with `client`, saying where it keeps its tokens and how it puts a failure in words.

const EARLY_MS = 30_000;

/** A failed call: the HTTP status (0 when the server could not be reached), the problem details
 * the API sent, and the words the front end shows for it. */
export class ApiError extends Error {
  constructor(status, problem, message) {
    super(message);
    this.status = status;
    this.problem = problem;
  }

  get offline() {
    return this.status === 0;
  }
}

/** A failure in the API's own words: its problem's detail or title, else the status. */
export function problemWords(status, problem) {
  return (problem && (problem.detail || problem.title)) || `HTTP ${status}`;
}

const SIGNED_OUT = { title: 'Signed out' };

function fromTokens(t) {
  return { access: t.access_token, refresh: t.refresh_token, expiresAt: Date.now() + t.expires_in * 1000 };
}

/**
 * A client of the API. `storage` and `key`: where the session is kept (localStorage keeps it
 * across visits, sessionStorage for this tab only); `credentials`: fetch's cookie mode;
 * `describe(status, problem, retryAfter)`: a failure's words; `onlineOnly`: fail at once, as
 * unreachable, while the browser knows it is offline.
 */
export function client({ storage, key, credentials, describe = problemWords, onlineOnly = false }) {
  let session = load();
  let refreshing = null;
  let onSignedOut = () => {};

  function load() {
    try {
      return JSON.parse(storage.getItem(key));
    } catch {
      return null;
    }
  }

  function save(next) {
    session = next;
    if (next) storage.setItem(key, JSON.stringify(next));
    else storage.removeItem(key);
  }

  const fail = (status, problem, retryAfter) => new ApiError(status, problem, describe(status, problem, retryAfter));

  /** A call; a Blob body (a photo) is sent as it is, with its own type, anything else as JSON. */
  async function send(method, path, body, token, accept = 'application/json') {
    if (onlineOnly && !navigator.onLine) throw fail(0, null);
    const raw = body instanceof Blob;
    const headers = { accept };
    if (body !== undefined) headers['content-type'] = raw ? body.type || 'application/octet-stream' : 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    try {
      return await fetch(path, {
        method,
        headers,
        body: body === undefined || raw ? body : JSON.stringify(body),
        credentials,
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
      });
    } catch {
      throw fail(0, null);
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
    if (!res.ok) throw fail(res.status, body, res.headers.get('retry-after'));
    return body;
  }

  /** Renews the tokens once, however many calls ask at the same time (a refresh token works once). */
  function refresh() {
    if (!refreshing) {
      refreshing = (async () => {
        const current = session;
        if (!current) throw fail(401, SIGNED_OUT);
        const res = await send('POST', '/v1/auth/refresh', { refresh_token: current.refresh });
        // A session that gave way meanwhile (signed out, or replaced) neither ends nor comes back.
        if (session !== current) return;
        if (res.status === 401) {
          save(null);
          onSignedOut();
          throw fail(401, await read(res));
        }
        save({ ...current, ...fromTokens(await answer(res)) });
      })().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  /** Calls the API as the signed-in user, renewing the tokens when needed; the answer as it came. */
  async function authed(method, path, body, accept) {
    if (!session) throw fail(401, SIGNED_OUT);
    if (Date.now() > session.expiresAt - EARLY_MS) await refresh();
    if (!session) throw fail(401, SIGNED_OUT);
    const used = session.access;
    let res = await send(method, path, body, used, accept);
    if (res.status === 401) {
      // Another call may have renewed the tokens meanwhile; renew only if none did.
      if (session && session.access === used) await refresh();
      if (!session) throw fail(401, SIGNED_OUT);
      res = await send(method, path, body, session.access, accept);
    }
    return res;
  }

  /** Calls the API as the signed-in user; JSON in (or a Blob) and out; throws an ApiError on failure. */
  async function api(method, path, body) {
    return answer(await authed(method, path, body));
  }

  const get = (path) => api('GET', path);

  return {
    api,
    get,
    post: (path, body) => api('POST', path, body),
    put: (path, body) => api('PUT', path, body),
    del: (path) => api('DELETE', path),

    /** Reads a file the API serves (a photo) as the signed-in user, as a Blob; throws an ApiError
     * on failure. An `<img>` can't send the token, so a page shows it from an object URL. */
    async blob(path) {
      const res = await authed('GET', path, undefined, 'image/*');
      if (!res.ok) throw fail(res.status, await read(res), res.headers.get('retry-after'));
      return res.blob();
    },

    /** Every page of a list, up to `max` items. */
    async getAll(path, max = 1000) {
      const items = [];
      let cursor = null;
      do {
        const sep = path.includes('?') ? '&' : '?';
        const page = await get(`${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        items.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor && items.length < max);
      return items;
    },

    /** Calls the API without a token (to sign in, say); JSON in and out. */
    async withoutToken(method, path, body) {
      return answer(await send(method, path, body));
    },

    /** The session, or null when signed out. */
    session: () => session,

    isSignedIn: () => session !== null,

    /** Starts a session with the tokens the API handed out, and `more` kept beside them. */
    begin(tokens, more = {}) {
      save({ ...fromTokens(tokens), ...more });
    },

    /** Called once the session is gone for good (the refresh token was refused). */
    whenSignedOut(callback) {
      onSignedOut = callback;
    },

    /** Revokes the refresh token (when the network allows) and forgets the session; the access
     * token runs out by itself. */
    async signOut() {
      const current = session;
      save(null);
      if (current) await send('POST', '/v1/auth/logout', { refresh_token: current.refresh }, current.access).catch(() => {});
    },

    /** Signs `old`, a session already let go of, out on the server, with an access token renewed
     * first when its own has run out. */
    async revoke(old) {
      let access = old.access;
      if (Date.now() > old.expiresAt - EARLY_MS) {
        const renewed = await send('POST', '/v1/auth/refresh', { refresh_token: old.refresh });
        if (!renewed.ok) return; // Ended already.
        access = (await answer(renewed)).access_token;
      }
      // The used refresh token still names its sign-in, which the server ends whole.
      await send('POST', '/v1/auth/logout', { refresh_token: old.refresh }, access);
    },
  };
}
