// The clinicians' dashboard: sign-in, the worklist, the alert queue, patients and their recovery, protocols and
// their comparison. Plain DOM, hash routes (#/worklist, #/alerts, #/patients/{id}, ...), the public API only.
// This file routes; each screen has its own module, dom.js and shared.js hold what they
// share, and shared/ what the dashboard shares with the patients' app.

import { isSignedIn, signOut, whenSignedOut } from './api.js';
import { alertsScreen } from './alerts.js';
import { compareScreen } from './compare.js';
import { loginScreen } from './login.js';
import { patientScreen } from './patient.js';
import { patientsScreen } from './patients.js';
import { protocolScreen } from './protocol.js';
import { protocolsScreen } from './protocols.js';
import { settingsScreen } from './settings.js';
import { authorizeScreen } from './smart.js';
import { worklistScreen } from './worklist.js';
import { clearCache, me } from './shared.js';
import { ApiError } from './shared/api.js';
import { errorPanel, h } from './shared/dom.js';

const view = document.getElementById('view');
const topbar = document.getElementById('topbar');

// ---------------------------------------------------------------------------------------------
// Routing

let renderSeq = 0;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/worklist';
  const [path, query = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query) };
}

function setNav(section) {
  for (const a of topbar.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
  if (!isSignedIn()) {
    if (patientOnThisBrowser()) return;
    renderLogin();
    return;
  }
  const seq = ++renderSeq;
  const { parts, params } = parseHash();
  const section = parts[0] || 'worklist';
  topbar.hidden = false;
  setNav(section);
  const screens = {
    worklist: () => worklistScreen(route),
    alerts: () => alertsScreen(params, route),
    patients: () => (parts[1] ? patientScreen(parts[1], params) : patientsScreen()),
    protocols: () => (parts[1] ? protocolScreen(parts[1], params) : protocolsScreen()),
    compare: () => compareScreen(params),
    settings: () => settingsScreen(route),
    authorize: () => authorizeScreen(params),
  };
  const screen = screens[section];
  if (!screen) {
    location.hash = '#/worklist';
    return;
  }
  view.replaceChildren(h('p', { class: 'loading', 'data-testid': 'loading' }, 'Loading…'));
  try {
    const who = await me();
    document.getElementById('clinic-name').textContent = who.clinic_name;
    document.getElementById('nav-settings').hidden = who.role !== 'admin';
    const node = await screen();
    if (seq !== renderSeq) return;
    view.replaceChildren(node);
  } catch (err) {
    if (seq !== renderSeq || !isSignedIn()) return;
    const message = err instanceof ApiError ? err.message : 'Something went wrong while showing this page.';
    view.replaceChildren(errorPanel(message, 'Try again', route));
  }
}

/** An app's authorization request (#/authorize?...) in a browser where nobody is signed in to the
 * dashboard but the patients' app is connected (its session in this origin's localStorage): the
 * patient decides there, in their own app. True when it went there. */
function patientOnThisBrowser() {
  const { parts } = parseHash();
  if (parts[0] !== 'authorize' || !localStorage.getItem('aftercare.app.session')) return false;
  location.replace(`/app/${location.hash}`);
  return true;
}

function renderLogin(message) {
  ++renderSeq;
  topbar.hidden = true;
  view.replaceChildren(loginScreen(message, route));
  document.getElementById('email').focus();
}

// ---------------------------------------------------------------------------------------------
// Start

whenSignedOut(() => {
  clearCache();
  renderLogin('Your session has ended. Please sign in again.');
});

document.getElementById('sign-out').addEventListener('click', async () => {
  await signOut();
  clearCache();
  history.replaceState(null, '', '#/worklist');
  renderLogin('You have signed out.');
});

window.addEventListener('hashchange', route);
route();
