// The app's own page parts, beside the shared ones (shared/dom.js): the status line and the
// call-your-clinic panel.

import { t } from './i18n.js';
import { h } from './shared/dom.js';

let statusTimer = null;
/** Says `message` in the status line, which screen readers announce. */
export function say(message) {
  const node = document.getElementById('status');
  node.textContent = message;
  node.classList.add('show');
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => node.classList.remove('show'), 5000);
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
