// The protocol's aftercare instructions, as the clinic wrote them, and how to reach the clinic.

import { t } from './i18n.js';
import { h } from './shared/dom.js';

export function careScreen({ treatment, clinic }) {
  const text = treatment && treatment.schedule.aftercare_instructions.trim();
  const phone = clinic && clinic.contact_phone;
  return h(
    'section',
    { 'aria-labelledby': 'care-title' },
    h('h1', { id: 'care-title' }, t('care_title')),
    h('div', { class: 'panel instructions', 'data-testid': 'care-instructions' }, text ? text.split(/\n+/).map((p) => h('p', {}, p)) : h('p', {}, t('care_none'))),
    clinic
      ? h(
          'div',
          { class: 'panel' },
          h('h2', {}, t('clinic_contact')),
          h('p', {}, clinic.name),
          phone ? h('a', { class: 'button call', href: `tel:${phone.replace(/[^+\d]/g, '')}` }, t('contact_call', { phone })) : null,
        )
      : null,
  );
}
