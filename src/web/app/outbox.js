// Check-ins on their way: each is kept on the phone first ("waiting to send", marked `red_flag` when
// an answer alone needs the clinic), then sent with POST /v1/check-ins/batch when the network
// allows (on opening, when the phone comes online, and every half minute), with the id the app gave
// it, so a retry never stores it twice. The last sent ones stay listed as "sent", with the server's
// word on calling the clinic (`contact_clinic`) and, when it says so, whether the patient has seen
// it (`seen`).

import { post } from './api.js';
import { read, write } from './store.js';

const NAME = 'outbox';
const KEEP_SENT = 10;
const RETRY_MS = 30_000;

let flushing = null;
const listeners = new Set();

export function items() {
  return read(NAME, []);
}

function save(list) {
  const waiting = list.filter((i) => i.state === 'waiting');
  const done = list.filter((i) => i.state !== 'waiting').slice(-KEEP_SENT);
  write(NAME, [...done, ...waiting].sort((a, b) => a.check_in.recorded_at.localeCompare(b.check_in.recorded_at)));
  for (const listener of listeners) listener();
}

/** Calls `listener` whenever an item is added or changes state. */
export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Keeps a new check-in on the phone, then tries to send it; the item as it stands after. */
export async function add(checkIn, redFlag = false) {
  save([...items(), { check_in: checkIn, state: 'waiting', red_flag: redFlag }]);
  await flush();
  return items().find((i) => i.check_in.id === checkIn.id);
}

/** Notes that the patient has seen the server's call-the-clinic message for check-in `id`. */
export function markSeen(id) {
  save(items().map((i) => (i.check_in.id === id ? { ...i, seen: true } : i)));
}

/** Sends every waiting check-in in one batch; one flush at a time. */
export function flush() {
  if (!flushing) {
    flushing = send().finally(() => {
      flushing = null;
    });
  }
  return flushing;
}

async function send() {
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
