// "Add a photo" on the check-in form: the phone's camera (or its library) through a file input, a
// short guide so that the photos of the days compare, the patient's consent for this photo
// (clinical use, needed to send it; the clinic's before-and-after use, optional), and a preview.
// The photo is scaled down here, on the phone, before it is kept or sent: long edge at most
// 2,048 px, as a JPEG. On the protocol's photo days the app asks for it first thing.

import { del } from './api.js';
import { say } from './dom.js';
import { t } from './i18n.js';
import { setPhoto } from './outbox.js';
import { h } from './shared/dom.js';

/** The longest edge a photo leaves the phone with. */
export const LONG_EDGE = 2048;
const QUALITY = 0.85;

/** The picture decoded, upright as the camera held it. */
async function decode(file) {
  if ('createImageBitmap' in window) {
    try {
      return await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch {
      // Some browsers decode only through an <img>.
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** The picture scaled with a canvas so that its long edge is at most 2,048 px, as a JPEG Blob. */
export async function scale(file) {
  const image = await decode(file);
  const ratio = Math.min(1, LONG_EDGE / Math.max(image.width, image.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(image.width * ratio));
  canvas.height = Math.max(1, Math.round(image.height * ratio));
  const context = canvas.getContext('2d');
  context.imageSmoothingQuality = 'high';
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  if (image.close) image.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
  if (!blob) throw new Error('the photo could not be encoded');
  return blob;
}

function consent(id, text, testid) {
  const box = h('input', { type: 'checkbox', id, 'data-testid': testid });
  return { box, node: h('div', { class: 'consent' }, box, h('label', { for: id }, text)) };
}

/**
 * The form's photo part. `asked`: today is one of the protocol's photo days, so it is shown
 * first and asks. `node` is the part; `read()` says what to send: `{ photo: null }` without one,
 * `{ photo: { blob, before_after } }`, or `{ error }` when a photo lacks its clinical consent.
 */
export function photoPart({ asked }) {
  let blob = null;
  let url = null;
  const input = h('input', { type: 'file', id: 'photo-file', accept: 'image/*', capture: 'environment', 'aria-describedby': 'photo-guide', 'data-testid': 'photo-input' });
  const preview = h('img', { class: 'photo-preview', alt: t('photo_preview_alt'), hidden: true, 'data-testid': 'photo-preview' });
  const state = h('p', { class: 'hint', role: 'status', 'data-testid': 'photo-state' });
  const clinical = consent('photo-clinical', t('photo_consent_clinical'), 'photo-consent-clinical');
  const beforeAfter = consent('photo-before-after', t('photo_consent_before_after'), 'photo-consent-before-after');
  const consents = h('div', { hidden: true, 'data-testid': 'photo-consents' }, clinical.node, beforeAfter.node);
  const error = h('p', { class: 'panel error', role: 'alert', hidden: true, 'data-testid': 'photo-error' });
  const remove = h('button', { type: 'button', class: 'quiet', hidden: true, 'data-testid': 'photo-remove' }, t('photo_remove'));

  const show = (next) => {
    if (url) URL.revokeObjectURL(url);
    blob = next;
    url = next ? URL.createObjectURL(next) : null;
    preview.hidden = !next;
    if (url) preview.src = url;
    else preview.removeAttribute('src');
    consents.hidden = !next;
    remove.hidden = !next;
    error.hidden = true;
    node.dataset.photo = next ? 'ready' : 'none';
  };

  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    state.textContent = t('photo_preparing');
    try {
      show(await scale(file));
      state.textContent = t('photo_ready');
    } catch {
      show(null);
      state.textContent = '';
      error.textContent = t('photo_unreadable');
      error.hidden = false;
    }
  });
  remove.addEventListener('click', () => {
    show(null);
    input.value = '';
    state.textContent = t('photo_removed');
    input.focus();
  });

  const node = h(
    'fieldset',
    { class: `panel photo${asked ? ' asked' : ''}`, id: 'photo-part', 'data-testid': 'photo-part', 'data-asked': asked ? 'true' : 'false', 'data-photo': 'none' },
    h('legend', {}, asked ? t('photo_asked_title') : t('photo_title')),
    h('ul', { id: 'photo-guide', class: 'guide' }, h('li', {}, t('photo_guide_light')), h('li', {}, t('photo_guide_distance')), h('li', {}, t('photo_guide_area'))),
    h('label', { for: 'photo-file', class: 'block' }, t('photo_choose')),
    input,
    state,
    preview,
    consents,
    error,
    remove,
  );

  const read = () => {
    if (!blob) return { photo: null };
    if (!clinical.box.checked) {
      error.textContent = t('photo_needs_consent');
      error.hidden = false;
      clinical.box.focus();
      return { error: true };
    }
    return { photo: { blob, before_after: beforeAfter.box.checked } };
  };
  return { node, read };
}

/** For a sent photo the clinic may show as a before-and-after picture: a button that withdraws that. */
export function withdrawButton(item) {
  const photo = item.photo;
  if (!photo || photo.state !== 'sent' || !photo.before_after || !photo.id) return null;
  const button = h('button', { type: 'button', class: 'quiet', 'data-testid': 'photo-withdraw' }, t('photo_withdraw'));
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await del(`/v1/check-ins/${item.check_in.id}/photos/${photo.id}/before-after-consent`);
      setPhoto(item.check_in.id, { before_after: false });
      say(t('photo_withdrawn'));
    } catch {
      button.disabled = false;
      say(t('photo_withdraw_failed'));
    }
  });
  return button;
}
