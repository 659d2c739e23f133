// The protocols list: each of the clinic's protocols, linked to its recovery curves, and the form
// that sets up a new one.

import { opener, toast } from './dom.js';
import { protocolForm } from './protocol_form.js';
import { protocolFacts, protocols } from './shared.js';
import { h } from './shared/dom.js';

function protocolTable(protos) {
  if (!protos.length) return h('p', { class: 'panel empty' }, 'No protocols yet.');
  return h(
    'div',
    { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Table (scrolls sideways)' },
    h(
      'table',
      { 'data-testid': 'protocol-table' },
      h('caption', { class: 'sr-only' }, 'Protocols'),
      h(
        'thead',
        {},
        h('tr', {}, h('th', { scope: 'col' }, 'Protocol'), h('th', { scope: 'col' }, 'Procedure'), h('th', { scope: 'col' }, 'Check-in days'), h('th', { scope: 'col' }, 'Photo days')),
      ),
      h(
        'tbody',
        {},
        ...protos.map((p) =>
          h(
            'tr',
            { 'data-testid': 'protocol-row', 'data-protocol-id': p.id },
            h('th', { scope: 'row' }, h('a', { href: `#/protocols/${p.id}`, 'data-testid': 'protocol-link' }, p.name)),
            h('td', {}, protocolFacts(p)),
            h('td', { class: 'muted' }, p.check_in_days.join(', ')),
            h('td', { class: 'muted', 'data-testid': 'protocol-photo-days' }, (p.photo_days || []).join(', ') || 'none'),
          ),
        ),
      ),
    ),
  );
}

export async function protocolsScreen() {
  document.title = 'Protocols · Aftercare';
  const list = h('div', {});
  const compare = h('a', { class: 'button', href: '#/compare', 'data-testid': 'go-compare' }, 'Compare two protocols');
  const show = (protos) => {
    list.replaceChildren(protocolTable([...protos.values()]));
    compare.hidden = protos.size < 2;
  };
  show(await protocols(true));

  const slot = h('div', {});
  const add = opener('New protocol', 'new-protocol', slot, (close) =>
    protocolForm({
      onDone: async (created) => {
        close();
        toast(`Protocol “${created.name}” created.`, 'ok');
        try {
          show(await protocols(true));
        } catch (err) {
          toast(`The protocol was created, but the list could not be shown again: ${err.message}`, 'error');
        }
      },
      onCancel: close,
    }),
  );
  add.classList.add('primary');

  return h(
    'section',
    { class: 'screen', 'data-testid': 'protocols-screen' },
    h(
      'div',
      { class: 'screen-head split' },
      h('div', {}, h('h1', {}, 'Protocols'), h('p', { class: 'muted' }, 'How patients recover after each protocol.')),
      h('div', { class: 'form-buttons' }, compare, add),
    ),
    slot,
    list,
  );
}
