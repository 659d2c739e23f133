// What the app keeps on the phone, in localStorage under one prefix: the last answers it read
// (so it opens offline) and the outbox of check-ins; the photos waiting to send are in IndexedDB
// (photo_store.js). "Sign out of this phone" wipes all of it.

import { dropAll } from './photo_store.js';

const PREFIX = 'aftercare.app.';

export function read(name, fallback = null) {
  try {
    const value = JSON.parse(localStorage.getItem(PREFIX + name));
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

export function write(name, value) {
  localStorage.setItem(PREFIX + name, JSON.stringify(value));
}

/** Forgets what the phone kept of its patient: everything but the chosen language and the session
 * (api.js's, which signing out ends and a new link replaces). */
export function wipe() {
  const keep = [`${PREFIX}lang`, `${PREFIX}session`];
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith(PREFIX) && !keep.includes(key)) localStorage.removeItem(key);
  }
  dropAll();
}
