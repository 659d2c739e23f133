// The dashboard's own page parts, beside the shared ones (shared/dom.js): the toast, legends,
// figures, the "Show more" pager of a list and the button that opens a form.

import { get } from './api.js';
import { h } from './shared/dom.js';

let toastTimer = null;
export function toast(message, kind = 'info') {
  const node = document.getElementById('toast');
  node.textContent = message;
  node.className = `toast show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    node.className = 'toast';
  }, 4000);
}

/** A chart's legend: `[class of the key, label]` pairs. */
export function legend(items) {
  return h(
    'ul',
    { class: 'legend', 'aria-label': 'Legend' },
    ...items.map(([cls, label]) => h('li', {}, h('span', { class: `key ${cls}`, 'aria-hidden': 'true' }), label)),
  );
}

/** One figure of a screen's row of figures, with an optional note under it. */
export function stat(label, value, testid, note) {
  return h('div', { class: 'stat', 'data-testid': testid }, h('div', { class: 'stat-value' }, value), h('div', { class: 'stat-label' }, label), note ? h('div', { class: 'muted small' }, note) : null);
}

/**
 * A list shown a page at a time. `path` is the list's API path with its query (filters and limit);
 * `load()` fetches the next page and hands its items to `show`; `more` is the button that loads
 * the page after, hidden once there is none.
 */
export function pager(path, label, show) {
  const more = h('button', { type: 'button', hidden: true }, label);
  let cursor = null;
  const load = async () => {
    const page = await get(`${path}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    await show(page.items);
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      await load();
    } catch (err) {
      toast(err.message, 'error');
    }
    more.disabled = false;
  });
  return { more, load };
}

/** A button that opens `make(close)`'s form in `slot`, and closes it again. */
export function opener(label, testid, slot, make) {
  const button = h('button', { type: 'button', 'aria-expanded': 'false', 'data-testid': testid }, label);
  const close = () => {
    slot.replaceChildren();
    button.setAttribute('aria-expanded', 'false');
    button.focus();
  };
  button.addEventListener('click', () => {
    if (button.getAttribute('aria-expanded') === 'true') return close();
    const form = make(close);
    slot.replaceChildren(form);
    button.setAttribute('aria-expanded', 'true');
    form.querySelector('input, select, textarea')?.focus();
  });
  return button;
}
