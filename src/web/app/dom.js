// What every screen builds its page with: elements, the status line, the error panel, the
// call-your-clinic panel.

import { t } from './i18n.js';

/** Builds an element; text children are text nodes, so data never becomes markup. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element, attributes as given. */
export function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) if (c) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

let statusTimer = null;
/** Says `message` in the status line, which screen readers announce. */
export function say(message) {
  const node = document.getElementById('status');
  node.textContent = message;
  node.classList.add('show');
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => node.classList.remove('show'), 5000);
}

export function errorPanel(retry) {
  return h('div', { class: 'panel error', role: 'alert', 'data-testid': 'error' }, h('p', {}, t('error')), retry ? h('button', { type: 'button', onclick: retry }, t('retry')) : null);
}

/** The call-your-clinic panel, with the clinic's number as a link that dials it, then `more`. */
export function contactPanel(clinic, ...more) {
  const phone = clinic && clinic.contact_phone;
  return h(
    'div',
    { class: 'panel urgent', role: 'alert', 'data-testid': 'contact-clinic' },
    h('h2', {}, t('contact_title')),
    h('p', {}, t('contact_body')),
    phone
      ? h('a', { class: 'button call', href: `tel:${phone.replace(/[^+\d]/g, '')}`, 'data-testid': 'clinic-phone' }, t('contact_call', { phone }))
      : h('p', {}, t('contact_no_phone')),
    ...more,
  );
}
