// What both front ends build their pages with: HTML and SVG elements made from data (text stays
// text, never markup) and the panel a screen shows when it could not load.

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

/** An SVG element, attributes as given; text children are text nodes. */
export function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null && v !== false) node.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** The panel a screen shows when it could not load: `message`, and a `retryLabel` button that
 * calls `retry`. */
export function errorPanel(message, retryLabel, retry) {
  return h('div', { class: 'panel error', role: 'alert', 'data-testid': 'error' }, h('p', {}, message), retry ? h('button', { type: 'button', onclick: retry }, retryLabel) : null);
}
