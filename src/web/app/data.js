// What the screens show, read from the API and kept on the phone: online, each answer refreshes
// the kept copy; offline, the kept copy is shown.

import { get, patientId } from './api.js';
import { ApiError } from './shared/api.js';
import { read, write } from './store.js';

/** `path`'s answer, or the copy kept from the last time it was read when the network is away. */
async function kept(name, path) {
  try {
    const value = await get(path);
    write(name, value);
    return value;
  } catch (err) {
    const copy = read(name);
    if (err instanceof ApiError && err.offline && copy) return copy;
    throw err;
  }
}

/** The clinic's name, time zone and contact phone; null when neither the server nor the phone has them. */
export async function clinic() {
  try {
    return await kept('clinic', '/v1/clinic');
  } catch {
    return null;
  }
}

/** The clinic's symptom items: the defaults and its own; each answer says from which day since treatment
 * it alone raises an urgent alert (`urgent_from_day`, null if never), so the app knows a red flag offline. */
export async function symptoms() {
  return (await kept('symptoms', '/v1/symptoms?limit=200')).items;
}

/** The patient's latest treatment with its schedule (the protocol's name and instructions too), or null. */
export async function treatment() {
  const page = await kept('treatments', `/v1/patients/${patientId()}/treatments?limit=1`);
  const latest = page.items[0];
  if (!latest) return null;
  const schedule = await kept('schedule', `/v1/treatments/${latest.id}/schedule`);
  return { ...latest, schedule };
}

/** The patient's recovery after `treatmentId`, beside the protocol's cohort. */
export async function recovery(treatmentId) {
  const all = await kept('recovery', `/v1/patients/${patientId()}/recovery`);
  return all.treatments.find((t) => t.treatment_id === treatmentId) || null;
}
