// What the app keeps on the phone, in localStorage under one prefix: the last answers it read
// (so it opens offline) and the outbox of check-ins. "Sign out of this phone" wipes all of it.

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

/** Forgets everything but the chosen language. */
export function wipe() {
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith(PREFIX) && key !== `${PREFIX}lang`) localStorage.removeItem(key);
  }
}
