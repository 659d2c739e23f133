// The app's API client, made from the shared one (shared/api.js). The phone is the patient's own,
// so the tokens stay in localStorage across visits, and a call fails at once while the phone knows
// it is offline. Connecting the phone with the clinic's code starts the session.

import { client } from './shared/api.js';

const patient = client({ storage: localStorage, key: 'aftercare.app.session', credentials: 'omit', onlineOnly: true });

export const { api, get, post, put, del, blob, getAll, isSignedIn, signOut, whenSignedOut } = patient;

export function patientId() {
  const session = patient.session();
  return session && session.patientId;
}

/** Connects this phone with the code the clinic gave. A session already on the phone (from an
 * earlier link) gives way to the new one and is signed out, so that its tokens and its reminders end. */
export async function enroll(code) {
  const tokens = await patient.withoutToken('POST', '/v1/auth/enroll', { code });
  const previous = patient.session();
  patient.begin(tokens, { patientId: tokens.patient_id });
  if (previous) await patient.revoke(previous).catch(() => {});
}
