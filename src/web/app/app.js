// The patients' app: connects the phone (from the link's #code=... or a typed code), then routes
// between today, the check-in, "my recovery", the aftercare instructions and the patient's photos
// (#/today, #/check-in, #/recovery, #/care, #/photos: a link on Today, not a tab), and the SMART
// apps' consent and "Connected apps" (#/authorize?..., #/apps). A link followed where the app is
// open already connects it too, replacing a connection it had. This file routes and starts; each
// screen has its own module.

import { isSignedIn, patientId, signOut, whenSignedOut } from './api.js';
import { careScreen } from './care.js';
import { checkInScreen } from './check_in.js';
import * as data from './data.js';
import { say } from './dom.js';
import { codeFromLink, enrollScreen, tryEnroll } from './enroll.js';
import { LANGUAGES, language, setLanguage, t } from './i18n.js';
import { myPhotos, photosScreen } from './my_photos.js';
import { flush, items, keepSending, onChange } from './outbox.js';
import { recoveryScreen } from './recovery.js';
import { forgetReminders, pushConfig, unsubscribe } from './reminders.js';
import { errorPanel, h } from './shared/dom.js';
import { appsScreen, authorizeScreen } from './smart.js';
import { wipe } from './store.js';
import { todayScreen } from './today.js';

const view = document.getElementById('view');
const tabs = document.getElementById('tabs');
const SCREENS = ['today', 'check-in', 'recovery', 'care', 'photos', 'authorize', 'apps'];
let renderSeq = 0;
let sending = false;

function screenName() {
  const name = location.hash.replace(/^#\/?/, '').split('?')[0];
  return SCREENS.includes(name) ? name : 'today';
}

/** The words of the page around the screens, in the chosen language. */
function frame() {
  document.documentElement.lang = language();
  document.title = t('app_name');
  document.querySelector('.skip').textContent = t('skip');
  document.querySelector('label[for=lang]').textContent = t('language');
  tabs.setAttribute('aria-label', t('nav'));
  for (const a of tabs.querySelectorAll('a')) {
    a.textContent = t(`nav_${a.dataset.nav.replace('-', '_')}`);
    if (a.dataset.nav === screenName()) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.getElementById('offline').textContent = t('offline_banner');
  document.getElementById('offline').hidden = navigator.onLine;
}

async function load(name) {
  const [clinic, catalogue, treatment] = await Promise.all([data.clinic(), data.symptoms(), data.treatment()]);
  const context = { clinic, catalogue, treatment, signOut: signOutHere };
  if (name === 'today') context.pushConfig = await pushConfig();
  if (name === 'recovery' && treatment) context.recovery = await data.recovery(treatment.id).catch(() => null);
  if (name === 'photos') context.photos = await myPhotos();
  return context;
}

const render = {
  today: todayScreen,
  'check-in': (c) => (c.treatment ? checkInScreen(c) : todayScreen(c)),
  recovery: recoveryScreen,
  care: careScreen,
  photos: photosScreen,
  authorize: () => authorizeScreen(new URLSearchParams(location.hash.split('?')[1] || '')),
  apps: appsScreen,
};

async function route() {
  frame();
  if (!isSignedIn()) return showEnroll();
  tabs.hidden = false;
  const seq = ++renderSeq;
  const name = screenName();
  view.replaceChildren(h('p', { class: 'loading' }, t('loading')));
  try {
    const node = await render[name](await load(name));
    if (seq !== renderSeq) return;
    view.replaceChildren(node);
    view.dataset.screen = name;
  } catch {
    if (seq === renderSeq && isSignedIn()) view.replaceChildren(errorPanel(t('error'), t('retry'), route));
  }
}

function showEnroll(message) {
  ++renderSeq;
  tabs.hidden = true;
  view.dataset.screen = 'enroll';
  view.replaceChildren(enrollScreen(message, afterEnroll));
}

/** Connects this phone with a link's code. A phone connected already (to the same patient or
 * another) is connected anew: its check-ins still waiting are sent first, its session is signed out,
 * and what it kept of another patient is forgotten. A code that fails leaves it as it was. */
async function enrollFromLink(code) {
  ++renderSeq;
  frame();
  view.dataset.screen = 'connecting';
  view.replaceChildren(h('p', { class: 'loading' }, t('enroll_working')));
  const before = patientId();
  if (before) await flush();
  const failed = await tryEnroll(code);
  if (failed && !isSignedIn()) return showEnroll(failed);
  if (failed) say(failed);
  else if (before) {
    await forgetReminders();
    if (patientId() !== before) wipe();
  }
  afterEnroll();
}

/** A navigation within the app: a link's code connects the phone; anything else is a screen. */
function onHashChange() {
  const code = codeFromLink();
  if (code) enrollFromLink(code);
  else route();
}

/** Today, once connected; or the consent screen of an app's request that waited for the connection. */
function afterEnroll() {
  startSending();
  if (screenName() !== 'authorize') history.replaceState(null, '', '#/today');
  route();
}

async function signOutHere() {
  if (items().some((i) => i.state === 'waiting') && !window.confirm(t('sign_out_confirm'))) return;
  await unsubscribe();
  await signOut();
  wipe();
  history.replaceState(null, '', location.pathname);
  frame();
  showEnroll(t('signed_out'));
}

function startSending() {
  if (sending) return;
  sending = true;
  keepSending();
}

async function start() {
  const select = document.getElementById('lang');
  select.replaceChildren(...Object.entries(LANGUAGES).map(([code, name]) => h('option', { value: code, lang: code }, name)));
  select.value = language();
  select.addEventListener('change', () => {
    setLanguage(select.value);
    route();
  });
  whenSignedOut(() => {
    wipe();
    showEnroll(t('session_ended'));
  });
  window.addEventListener('hashchange', onHashChange);
  // Tapping the tab of the screen on show starts it afresh (a new check-in after one was sent).
  tabs.addEventListener('click', (event) => {
    if (event.target.closest('a')?.getAttribute('href') === location.hash) route();
  });
  for (const event of ['online', 'offline']) window.addEventListener(event, frame);
  onChange(() => {
    if (view.dataset.screen === 'today') route();
  });
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/app/sw.js', { scope: '/app' }).catch(() => {});
  const code = codeFromLink();
  if (code) return enrollFromLink(code);
  if (isSignedIn()) startSending();
  route();
}

start();
