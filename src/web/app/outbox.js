// Check-ins on their way: each is kept on the phone first ("waiting to send", marked `red_flag` when
// an answer alone needs the clinic), then sent with POST /v1/check-ins/batch when the network
// allows (on opening, when the phone comes online, and every half minute), with the id the app gave
// it, so a retry never stores it twice. The last sent ones stay listed as "sent", with the server's
// word on calling the clinic (`contact_clinic`) and, when it says so, whether the patient has seen
// it (`seen`).
//
// A check-in may carry a photo: its bytes wait in IndexedDB (photo_store.js), the item notes
// `photo: { state, before_after }`. Once its check-in is sent, the photo is sent, exactly once:
// acknowledged, it is marked sent and forgotten; refused with a 4xx, it is dropped and the patient
// told; an attempt whose answer never came is looked for among the patient's photos before it is
// tried again, so a lost answer never stores it twice.

import { getAll, patientId, post } from './api.js';
import { say } from './dom.js';
import { formatDate, t } from './i18n.js';
import { drop, keep, photoOf } from './photo_store.js';
import { ApiError } from './shared/api.js';
import { read, write } from './store.js';

const NAME = 'outbox';
const KEEP_SENT = 10;
const RETRY_MS = 30_000;

let flushing = null;
const listeners = new Set();

export function items() {
  return read(NAME, []);
}

/** Whether the item still has something to send: its check-in, or its photo. */
const pending = (i) => i.state === 'waiting' || i.photo?.state === 'waiting';

function save(list) {
  const waiting = list.filter(pending);
  const done = list.filter((i) => !pending(i)).slice(-KEEP_SENT);
  write(NAME, [...done, ...waiting].sort((a, b) => a.check_in.recorded_at.localeCompare(b.check_in.recorded_at)));
  for (const listener of listeners) listener();
}

/** Calls `listener` whenever an item is added or changes state. */
export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Keeps a new check-in (and its photo, `{ blob, before_after }`, if any) on the phone, then tries
 * to send them; the item as it stands after. */
export async function add(checkIn, redFlag = false, photo = null) {
  const item = { check_in: checkIn, state: 'waiting', red_flag: redFlag };
  if (photo) {
    try {
      await keep(checkIn.id, photo.blob);
      item.photo = { state: 'waiting', before_after: photo.before_after };
    } catch {
      say(t('photo_not_kept'));
    }
  }
  save([...items(), item]);
  await flush();
  return items().find((i) => i.check_in.id === checkIn.id);
}

/** Notes that the patient has seen the server's call-the-clinic message for check-in `id`. */
export function markSeen(id) {
  save(items().map((i) => (i.check_in.id === id ? { ...i, seen: true } : i)));
}

/** Changes what the item of check-in `id` notes of its photo. */
export function setPhoto(id, patch) {
  save(items().map((i) => (i.check_in.id === id && i.photo ? { ...i, photo: { ...i.photo, ...patch } } : i)));
}

/** Sends every waiting check-in in one batch, then the photos of those sent; one flush at a time. */
export function flush() {
  if (!flushing) {
    flushing = send().finally(() => {
      flushing = null;
    });
  }
  return flushing;
}

async function send() {
  await sendCheckIns();
  await sendPhotos();
}

async function sendCheckIns() {
  const waiting = items().filter((i) => i.state === 'waiting').slice(0, 100);
  if (!waiting.length) return;
  let answer;
  try {
    answer = await post('/v1/check-ins/batch', { check_ins: waiting.map((i) => i.check_in) });
  } catch {
    return; // Offline or the server is away: they stay waiting for the next try.
  }
  const results = new Map(answer.results.map((r) => [waiting[r.index].check_in.id, r]));
  save(items().map((item) => settle(item, results.get(item.check_in.id))));
  // A photo goes with its check-in: a check-in not accepted takes its photo with it.
  for (const item of items().filter((i) => i.state === 'refused' && i.photo?.state === 'waiting')) await refusePhoto(item);
}

/** Sends the waiting photos of sent check-ins, one at a time, until the network fails. */
async function sendPhotos() {
  for (const item of items().filter((i) => i.state === 'sent' && i.photo?.state === 'waiting')) {
    if (!(await sendPhoto(item))) return;
  }
}

/** Sends one photo; false when the network or the server is away (it stays waiting). */
async function sendPhoto(item) {
  const id = item.check_in.id;
  try {
    if (item.photo.tried) {
      // An earlier attempt got no answer: the server may have stored it.
      const stored = (await getAll(`/v1/patients/${patientId()}/photos`)).find((p) => p.check_in_id === id);
      if (stored) return sentPhoto(id, stored);
    }
    const blob = await photoOf(id).catch(() => undefined);
    if (!blob) {
      setPhoto(id, { state: 'refused' });
      return true;
    }
    setPhoto(id, { tried: true });
    const query = `clinical_use=true&before_after=${item.photo.before_after ? 'true' : 'false'}`;
    return sentPhoto(id, await post(`/v1/check-ins/${id}/photos?${query}`, blob));
  } catch (err) {
    const refused = err instanceof ApiError && err.status >= 400 && err.status < 500 && ![401, 408, 429].includes(err.status);
    if (!refused) return false;
    await refusePhoto(item);
    return true;
  }
}

async function sentPhoto(id, photo) {
  setPhoto(id, { state: 'sent', id: photo.id, before_after: !!photo.consent?.before_after });
  await drop(id).catch(() => {});
  return true;
}

/** Drops a photo the server refused, and tells the patient. */
async function refusePhoto(item) {
  setPhoto(item.check_in.id, { state: 'refused' });
  await drop(item.check_in.id).catch(() => {});
  say(t('photo_refused_say', { date: formatDate(item.check_in.recorded_at) }));
}

function settle(item, result) {
  if (!result) return item;
  if (result.status === 200 || result.status === 201) {
    const receipt = result.check_in || {};
    const contact = !!receipt.contact_clinic || (receipt.alerts || []).some((a) => a.level === 'urgent');
    return { ...item, state: 'sent', contact_clinic: contact, ...(contact ? { seen: false } : {}) };
  }
  if (result.status === 409 || result.status === 422) return { ...item, state: 'refused' };
  return item;
}

/** Sends waiting check-ins now, whenever the phone comes online, and every half minute. */
export function keepSending() {
  window.addEventListener('online', () => flush());
  setInterval(() => flush(), RETRY_MS);
  flush();
}
