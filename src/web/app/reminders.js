// The reminders switch: asks for permission to notify, subscribes this phone to Web Push with the
// server's key, and hands the subscription to the server, which sends a reminder on a check-in day
// without a check-in by the clinic's reminder hour. Hidden where push is off or unsupported.

import { del, get, post } from './api.js';
import { say } from './dom.js';
import { language, t } from './i18n.js';
import { h } from './shared/dom.js';
import { read, write } from './store.js';

const NAME = 'push';

/** The server's push settings, or null when it sends no push (or can't be asked now). */
export async function pushConfig() {
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return null;
  try {
    return await get('/v1/push/config');
  } catch {
    return null;
  }
}

function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function subscribe(config) {
  if ((await Notification.requestPermission()) !== 'granted') throw new Error(t('reminders_blocked'));
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(config.application_server_key) });
  const saved = await post('/v1/push-subscriptions', { ...subscription.toJSON(), language: language() });
  write(NAME, { id: saved.id });
}

/** Stops the reminders: the server forgets the subscription, the browser drops it. */
export async function unsubscribe() {
  const saved = read(NAME);
  if (saved) await del(`/v1/push-subscriptions/${saved.id}`).catch(() => {});
  await forgetReminders();
}

/** Stops the reminders on this phone alone: for a session that was signed out, whose subscriptions
 * the server dropped with it. */
export async function forgetReminders() {
  write(NAME, null);
  const registration = 'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistration('/app') : null;
  const subscription = registration && (await registration.pushManager.getSubscription());
  if (subscription) await subscription.unsubscribe().catch(() => {});
}

export function remindersSwitch(config) {
  if (!config) return null;
  const input = h('input', { type: 'checkbox', role: 'switch', id: 'reminders', 'data-testid': 'reminders' });
  input.checked = !!read(NAME) && Notification.permission === 'granted';
  input.addEventListener('change', async () => {
    input.disabled = true;
    try {
      if (input.checked) await subscribe(config);
      else await unsubscribe();
      say(input.checked ? t('reminders_on') : t('reminders_off'));
    } catch (err) {
      input.checked = false;
      say(err.message || t('error'));
    }
    input.disabled = false;
  });
  return h('div', { class: 'switch' }, input, h('label', { for: 'reminders' }, t('reminders')));
}
