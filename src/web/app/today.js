// The home screen: the clinic's call-us message for each sent check-in the server said needs the
// clinic, until the patient says they have seen it; today's check-in, the coming check-in days, the
// check-ins on this phone (waiting to send or sent), and this phone's settings: reminders and
// signing out.

import { contactPanel } from './dom.js';
import { formatDate, t } from './i18n.js';
import { items, markSeen } from './outbox.js';
import { withdrawButton } from './photo.js';
import { remindersSwitch } from './reminders.js';
import { h } from './shared/dom.js';

/** A time's calendar date in the clinic's time zone, as YYYY-MM-DD. */
export function clinicDate(time, timezone) {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: timezone }).format(new Date(time));
  } catch {
    return new Date(time).toISOString().slice(0, 10);
  }
}

/** The day since `treatment` of a time, as the server counts it: calendar days in the clinic's time zone. */
export function dayOf(time, treatment) {
  const tz = treatment.schedule.timezone;
  return Math.round((Date.parse(clinicDate(time, tz)) - Date.parse(clinicDate(treatment.performed_at, tz))) / 86_400_000);
}

/** Whether the clinic asks for a photo today: the server's word (domain::photos::photo_asked), as
 * long as it was said of today; a copy kept offline from another day says no (a photo may still
 * be added). */
export function photoAskedToday(schedule) {
  return !!schedule.photo_asked_today && schedule.today === clinicDate(Date.now(), schedule.timezone);
}

/** The schedule's days as of now: a day is done too when a check-in of that date waits on the phone. */
export function daysNow(schedule) {
  const today = clinicDate(Date.now(), schedule.timezone);
  const local = new Set(items().map((i) => clinicDate(i.check_in.recorded_at, schedule.timezone)));
  return schedule.days.map((d) => {
    const done = d.done || local.has(d.date);
    const status = done ? 'done' : d.date < today ? 'missed' : d.date === today ? 'due' : 'upcoming';
    return { ...d, done, status, today: d.date === today };
  });
}

function todayPanel(treatment) {
  const days = daysNow(treatment.schedule);
  const today = days.find((d) => d.today);
  const dayNumber = dayOf(Date.now(), treatment);
  const state = !today ? 'none' : today.done ? 'done' : 'due';
  const message = { none: t('no_check_in_today'), done: t('done_today'), due: t('due_today') }[state];
  const coming = days.filter((d) => d.status === 'upcoming').slice(0, 5);
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'today-title', 'data-testid': 'today', 'data-state': state },
    h('h1', { id: 'today-title' }, t('today_title')),
    h('p', { class: 'muted' }, t('treatment_of', { name: treatment.schedule.protocol_name, date: formatDate(treatment.performed_at) })),
    dayNumber >= 0 ? h('p', { class: 'big' }, t('day_n', { day: dayNumber })) : null,
    h('p', { 'data-testid': 'today-status' }, message),
    photoAskedToday(treatment.schedule) ? h('p', { class: 'big', 'data-testid': 'photo-asked-today' }, t('photo_asked_today')) : null,
    h('a', { class: `button ${state === 'due' ? 'primary' : ''}`, href: '#/check-in', 'data-testid': 'check-in-now' }, t('check_in_now')),
    h('h2', {}, t('coming_days')),
    coming.length
      ? h('ul', { class: 'days', 'data-testid': 'coming-days' }, ...coming.map((d) => h('li', {}, formatDate(d.date), h('span', { class: 'muted' }, ` · ${t('day')} ${d.day}`))))
      : h('p', {}, t('no_coming_days')),
  );
}

/** The server's word on a sent check-in: the clinic has been alerted, please call; until "I have seen this". */
function alertedPanel(item, clinic) {
  return contactPanel(
    clinic,
    h('p', { 'data-testid': 'clinic-alerted' }, t('clinic_alerted', { date: formatDate(item.check_in.recorded_at) })),
    h('button', { type: 'button', onclick: () => markSeen(item.check_in.id), 'data-testid': 'seen' }, t('seen')),
  );
}

/** The check-ins on this phone, newest first, each waiting to send, sent, or not accepted. */
export function outboxPanel() {
  const list = items().slice().reverse();
  if (!list.length) return null;
  const words = { waiting: t('waiting'), sent: t('sent'), refused: t('refused') };
  const photoWords = { waiting: t('photo_waiting'), sent: t('photo_sent'), refused: t('photo_refused') };
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'outbox-title', 'data-testid': 'outbox' },
    h('h2', { id: 'outbox-title' }, t('outbox_title')),
    h(
      'ul',
      { class: 'outbox' },
      ...list.map((i) =>
        h(
          'li',
          { 'data-testid': 'outbox-item', 'data-state': i.state, 'data-id': i.check_in.id },
          h('span', {}, new Date(i.check_in.recorded_at).toLocaleString(document.documentElement.lang === 'de' ? 'de-DE' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' })),
          h('span', { class: `chip ${i.state}` }, words[i.state]),
          i.photo ? h('span', { class: `chip ${i.photo.state}`, 'data-testid': 'outbox-photo', 'data-state': i.photo.state }, photoWords[i.photo.state]) : null,
          i.photo ? withdrawButton(i) : null,
        ),
      ),
    ),
  );
}

/** The way to every photo sent, and to each one's before-and-after consent. */
function photosPanel() {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'photos-link-title' },
    h('h2', { id: 'photos-link-title' }, t('photos_title')),
    h('p', {}, t('photos_link_intro')),
    h('a', { class: 'button', href: '#/photos', 'data-testid': 'my-photos-link' }, t('photos_open')),
  );
}

function phonePanel(pushConfig, signOut) {
  return h(
    'section',
    { class: 'panel', 'aria-label': t('sign_out') },
    remindersSwitch(pushConfig),
    h('p', {}, h('a', { href: '#/apps', 'data-testid': 'smart-apps-link' }, t('smart_apps_title'))),
    h('button', { type: 'button', class: 'quiet', onclick: signOut, 'data-testid': 'sign-out' }, t('sign_out')),
  );
}

export function todayScreen({ treatment, clinic, pushConfig, signOut }) {
  const alerted = items().filter((i) => i.state === 'sent' && i.contact_clinic && !i.seen);
  return h(
    'div',
    {},
    ...alerted.reverse().map((i) => alertedPanel(i, clinic)),
    treatment ? todayPanel(treatment) : h('section', { class: 'panel' }, h('h1', {}, t('today_title')), h('p', { 'data-testid': 'no-treatment' }, t('no_treatment'))),
    outboxPanel(),
    photosPanel(),
    phonePanel(pushConfig, signOut),
  );
}
