// On a patient's page: the photos the patient sent with their check-ins, by day since treatment
// (thumbnails), any two side by side (day 0 against the latest at first, both chosen with a
// select), and each photo's review flag, which a clinician sets to ask a colleague to look. An
// <img> can't send the session's token, so every image is fetched with it (shared/api.js's
// `blob`) and shown from an object URL; each read is audited by the API.

import { blob, del, getAll, put } from './api.js';
import { toast } from './dom.js';
import { cache, formatDate } from './shared.js';
import { h } from './shared/dom.js';

/** Object URLs of the images fetched, by path, and the lists read for the alerts, by patient;
 * let go of when another page is shown. */
const urls = new Map();
const lists = new Map();

function objectUrl(path) {
  if (!urls.has(path)) {
    const url = blob(path).then((b) => URL.createObjectURL(b));
    url.catch(() => urls.delete(path));
    urls.set(path, url);
  }
  return urls.get(path);
}

/** Lets go of the images fetched (called when the page changes). */
export function forgetPhotos() {
  for (const url of urls.values()) url.then((u) => URL.revokeObjectURL(u)).catch(() => {});
  urls.clear();
  lists.clear();
}

const label = (p) => `Day ${p.day} · ${formatDate(p.created_at)}`;
const describe = (p) => `Photo of day ${p.day} after treatment, sent ${formatDate(p.created_at, true)}`;

/** An image of `path`, filled in once it is fetched; a note in its place if it can't be. */
export function photoImage(path, alt, className, testid) {
  const img = h('img', { alt, class: className, 'data-testid': testid, 'data-loaded': 'false' });
  objectUrl(path)
    .then((url) => {
      img.src = url;
      img.dataset.loaded = 'true';
    })
    .catch(() => img.replaceWith(h('span', { class: 'photo-missing muted', 'data-testid': 'photo-missing' }, 'The photo could not be loaded.')));
  return img;
}

/** The patient's photos, by day since treatment then as sent. */
export async function photosOf(patientId) {
  const photos = await getAll(`/v1/patients/${patientId}/photos`);
  return photos.sort((a, b) => a.day - b.day || a.created_at.localeCompare(b.created_at));
}

/** Of `photos`, those sent with the check-ins of treatment `treatmentId`; null when they could not be told. */
export async function ofTreatment(patientId, treatmentId, photos) {
  if (!photos?.length) return photos;
  try {
    const checkIns = await getAll(`/v1/patients/${patientId}/check-ins?treatment_id=${treatmentId}`);
    const ids = new Set(checkIns.map((c) => c.id));
    return photos.filter((p) => ids.has(p.check_in_id));
  } catch {
    return null;
  }
}

function flagChip(p) {
  if (!p.review_flag) return null;
  const who = p.review_flag.by === cache.me?.user_id ? 'you' : 'a colleague';
  return h('span', { class: 'chip warn', 'data-testid': 'photo-flagged' }, `Flagged for review by ${who}, ${formatDate(p.review_flag.at, true)}`);
}

/** The button that flags the photo for review, or clears its flag; `onChange(updated)` after. */
function flagButton(p, onChange) {
  const flagged = !!p.review_flag;
  const button = h(
    'button',
    { type: 'button', 'data-testid': 'photo-flag', 'aria-pressed': flagged ? 'true' : 'false', 'aria-label': `${flagged ? 'Clear the review flag of' : 'Flag for a colleague’s review:'} the photo of day ${p.day}` },
    flagged ? 'Clear flag' : 'Flag for review',
  );
  button.addEventListener('click', async () => {
    button.disabled = true;
    const path = `/v1/check-ins/${p.check_in_id}/photos/${p.id}/review-flag`;
    try {
      const updated = flagged ? await del(path) : await put(path);
      toast(flagged ? 'Review flag cleared.' : 'Photo flagged for a colleague’s review.', 'ok');
      onChange(updated);
    } catch (err) {
      toast(err.message, 'error');
      button.disabled = false;
    }
  });
  return button;
}

function thumbnail(p, onChange) {
  const item = h('li', { class: 'photo-thumb', 'data-testid': 'photo-thumb', 'data-photo-id': p.id, 'data-day': p.day });
  const fill = (photo) => {
    item.replaceChildren(
      h('figure', {}, photoImage(photo.thumbnail_url, describe(photo), 'thumb', 'photo-thumbnail'), h('figcaption', {}, label(photo))),
      flagChip(photo),
      flagButton(photo, (updated) => {
        fill(updated);
        onChange(updated);
        item.querySelector('[data-testid=photo-flag]')?.focus();
      }),
    );
  };
  fill(p);
  return item;
}

/** Two photos side by side, each chosen with a select: day 0 (else the first) and the latest at first. */
function sideBySide(photos) {
  const byId = new Map(photos.map((p) => [p.id, p]));
  const first = photos.find((p) => p.day === 0) || photos[0];
  const latest = photos[photos.length - 1];
  const pick = (side, text, chosen) => {
    const select = h('select', { id: `photo-${side}`, 'data-testid': `photo-pick-${side}` }, ...photos.map((p) => h('option', { value: p.id, selected: p === chosen }, label(p))));
    return { select, node: h('div', { class: 'field' }, h('label', { for: `photo-${side}` }, text), select) };
  };
  const left = pick('left', 'Left photo', first);
  const right = pick('right', 'Right photo', latest);
  const pane = (side, p) =>
    h('figure', { class: 'photo-pane', 'data-testid': `photo-pane-${side}`, 'data-photo-id': p.id, 'data-day': p.day }, photoImage(p.url, describe(p), 'photo-large', `photo-large-${side}`), h('figcaption', {}, label(p)));
  const panes = h('div', { class: 'photo-panes', 'aria-live': 'polite' });
  const show = () => panes.replaceChildren(pane('left', byId.get(left.select.value)), pane('right', byId.get(right.select.value)));
  left.select.addEventListener('change', show);
  right.select.addEventListener('change', show);
  show();
  return h(
    'div',
    { class: 'photo-compare', 'data-testid': 'photo-compare', role: 'group', 'aria-labelledby': 'photo-compare-title' },
    h('h3', { id: 'photo-compare-title' }, 'Side by side'),
    h('div', { class: 'photo-picks' }, left.node, right.node),
    panes,
  );
}

/** The photos panel of a patient's page: `photos` as `photosOf` gives them, or null when they could not be read. */
export function photosPanel(photos) {
  const body = h('div', {});
  const render = (list) => {
    if (!list.length) return body.replaceChildren(h('p', { class: 'muted', 'data-testid': 'photos-none' }, 'No photos yet. The patient can add one to any check-in in their app.'));
    const update = (updated) => {
      const i = list.findIndex((p) => p.id === updated.id);
      if (i >= 0) list[i] = updated;
    };
    body.replaceChildren(h('ul', { class: 'photo-strip', 'aria-label': 'Photos by day since treatment' }, ...list.map((p) => thumbnail(p, update))), list.length > 1 ? sideBySide(list) : null);
  };
  if (photos) render(photos);
  else body.replaceChildren(h('p', { class: 'muted' }, 'The photos could not be loaded.'));
  return h('section', { class: 'panel photos', 'aria-labelledby': 'photos-title', 'data-testid': 'patient-photos' }, h('h2', { id: 'photos-title' }, 'Photos'), body);
}

/** For an alert's queue row: the photos sent with the check-ins that raised it, as thumbnails. */
export async function alertPhotos(alert) {
  const ids = new Set(alert.evidence.map((e) => e.check_in_id).filter(Boolean));
  if (!ids.size) return null;
  if (!lists.has(alert.patient_id)) lists.set(alert.patient_id, photosOf(alert.patient_id));
  const photos = (await lists.get(alert.patient_id)).filter((p) => ids.has(p.check_in_id));
  if (!photos.length) return null;
  return h(
    'ul',
    { class: 'photo-strip small', 'aria-label': 'Photos sent with these check-ins', 'data-testid': 'alert-photos' },
    ...photos.map((p) =>
      h(
        'li',
        { class: 'photo-thumb' },
        h('a', { href: `#/patients/${alert.patient_id}`, 'aria-label': `${describe(p)}: open the patient’s page` }, photoImage(p.thumbnail_url, describe(p), 'thumb', 'alert-photo')),
        flagChip(p),
      ),
    ),
  );
}
