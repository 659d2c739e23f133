// The protocols list: each of the clinic's protocols, linked to its recovery curves.

import { h } from './dom.js';
import { protocolFacts, protocols } from './shared.js';

export async function protocolsScreen() {
  document.title = 'Protocols · Aftercare';
  const protos = [...(await protocols(true)).values()];
  return h(
    'section',
    { class: 'screen', 'data-testid': 'protocols-screen' },
    h(
      'div',
      { class: 'screen-head split' },
      h('div', {}, h('h1', {}, 'Protocols'), h('p', { class: 'muted' }, 'How patients recover after each protocol.')),
      protos.length > 1 ? h('a', { class: 'button', href: '#/compare', 'data-testid': 'go-compare' }, 'Compare two protocols') : null,
    ),
    protos.length
      ? h(
          'div',
          { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Table (scrolls sideways)' },
          h(
            'table',
            { 'data-testid': 'protocol-table' },
            h('caption', { class: 'sr-only' }, 'Protocols'),
            h(
              'thead',
              {},
              h('tr', {}, h('th', { scope: 'col' }, 'Protocol'), h('th', { scope: 'col' }, 'Procedure'), h('th', { scope: 'col' }, 'Check-in days')),
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
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'panel empty' }, 'No protocols yet.'),
  );
}
