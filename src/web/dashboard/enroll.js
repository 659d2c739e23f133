// "Enroll a phone" on a patient's page: creates a one-time enrollment code and shows its link and
// a QR code of the link, to scan at the front desk; the phone opens the patient app already
// connected. The code lives in the link's fragment, which never reaches a server or a Referer.

import { post } from './api.js';
import { toast } from './dom.js';
import qrcode from './qrcode.js';
import { formatDate } from './shared.js';
import { h } from './shared/dom.js';

const SVG = 'http://www.w3.org/2000/svg';

/** The QR code of `text` as an SVG, one path of dark modules, with a quiet zone of four. */
export function qrSvg(text, label) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  let d = '';
  for (let r = 0; r < n; r += 1) for (let c = 0; c < n; c += 1) if (qr.isDark(r, c)) d += `M${c + 4},${r + 4}h1v1h-1z`;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${n + 8} ${n + 8}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('class', 'qr');
  svg.setAttribute('data-testid', 'enroll-qr');
  svg.setAttribute('shape-rendering', 'crispEdges');
  const back = document.createElementNS(SVG, 'rect');
  back.setAttribute('width', n + 8);
  back.setAttribute('height', n + 8);
  back.setAttribute('fill', '#fff');
  const modules = document.createElementNS(SVG, 'path');
  modules.setAttribute('d', d);
  modules.setAttribute('fill', '#000');
  svg.append(back, modules);
  return svg;
}

function card(code) {
  const link = code.link || `${location.origin}/app#code=${encodeURIComponent(code.code)}`;
  return h(
    'div',
    { class: 'panel enroll', 'data-testid': 'enroll-panel', role: 'region', 'aria-label': 'Enroll a phone' },
    qrSvg(link, 'QR code of the enrollment link'),
    h(
      'div',
      {},
      h('h2', {}, 'Scan with the patient’s phone'),
      h('p', {}, 'The camera opens the Aftercare app, connected to this patient. The code works once, until ', formatDate(code.expires_at, true), '.'),
      h('p', {}, 'Or type the code in the app: ', h('strong', { class: 'code', 'data-testid': 'enroll-code' }, code.code)),
      h('p', { class: 'small' }, h('a', { href: link, 'data-testid': 'enroll-link', rel: 'noreferrer', target: '_blank' }, link)),
    ),
  );
}

/** The "Enroll a phone" button and the place where the code shows. */
export function enrollAction(patientId) {
  const slot = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'primary', 'data-testid': 'enroll-phone' }, 'Enroll a phone');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      slot.replaceChildren(card(await post(`/v1/patients/${patientId}/enrollment-codes`)));
      button.textContent = 'New code';
    } catch (err) {
      toast(err.message, 'error');
    }
    button.disabled = false;
  });
  return { button, slot };
}
