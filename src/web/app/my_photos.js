// "My photos" (#/photos, linked from Today): every photo the patient sent, newest first, each with
// its thumbnail, its day since treatment and the date it was sent, and whether the clinic may show
// it as a before-and-after picture. The patient withdraws that consent, or gives it, photo by photo
// and at any time; the clinical use stays. The thumbnails are read from the API with the session's
// token (an <img> can't send it; each read is audited) and are never kept on the phone, so the
// screen needs the network.

import { blob, del, getAll, patientId, put } from './api.js';
import { say } from './dom.js';
import { formatDate, t } from './i18n.js';
import { setPhoto } from './outbox.js';
import { h } from './shared/dom.js';

/** Object URLs of the thumbnails on show; let go of when the screen is drawn again. */
let urls = [];

/** Every photo the patient sent, newest first; null when the network is away. */
export async function myPhotos() {
  try {
    const photos = await getAll(`/v1/patients/${patientId()}/photos`);
    return photos.sort((a, b) => b.created_at.localeCompare(a.created_at));
  } catch (err) {
    if (err.offline) return null;
    throw err;
  }
}

function thumbnail(photo, alt) {
  const img = h('img', { class: 'thumb', alt, 'data-testid': 'my-photo-thumbnail', 'data-loaded': 'false' });
  blob(photo.thumbnail_url)
    .then((b) => {
      const url = URL.createObjectURL(b);
      urls.push(url);
      img.src = url;
      img.dataset.loaded = 'true';
    })
    .catch(() => img.replaceWith(h('span', { class: 'muted', 'data-testid': 'my-photo-missing' }, t('photos_missing'))));
  return img;
}

/** One photo: its thumbnail and words, and the button that withdraws or gives its before-and-after consent. */
function photoItem(photo) {
  const caption = `${t('photos_day', { day: photo.day })} · ${formatDate(photo.created_at)}`;
  const captionId = `my-photo-${photo.id}`;
  const consent = h('p', { class: 'consent-state', 'data-testid': 'my-photo-consent' });
  const button = h('button', { type: 'button', class: 'quiet', 'aria-describedby': captionId, 'data-testid': 'my-photo-toggle' });
  const item = h(
    'li',
    { class: 'my-photo', 'data-testid': 'my-photo', 'data-id': photo.id },
    thumbnail(photo, t('photos_alt', { day: photo.day, date: formatDate(photo.created_at) })),
    h('div', {}, h('p', { id: captionId, class: 'caption' }, caption), consent, button),
  );
  let current = photo;
  const show = (p) => {
    current = p;
    const given = p.consent.before_after;
    item.dataset.beforeAfter = given ? 'true' : 'false';
    consent.textContent = given ? t('photos_before_after_given') : t('photos_before_after_not');
    button.textContent = given ? t('photo_withdraw') : t('photos_give');
  };
  show(photo);
  button.addEventListener('click', async () => {
    button.disabled = true;
    const path = `/v1/check-ins/${current.check_in_id}/photos/${current.id}/before-after-consent`;
    try {
      const next = current.consent.before_after ? await del(path) : await put(path);
      show(next);
      setPhoto(next.check_in_id, { before_after: next.consent.before_after });
      say(next.consent.before_after ? t('photos_given') : t('photo_withdrawn'));
    } catch {
      say(t('photo_withdraw_failed'));
    } finally {
      button.disabled = false;
    }
  });
  return item;
}

export function photosScreen({ photos }) {
  for (const url of urls) URL.revokeObjectURL(url);
  urls = [];
  let body;
  if (photos === null) body = h('p', { class: 'panel waiting', 'data-testid': 'my-photos-offline' }, t('photos_offline'));
  else if (!photos.length) body = h('p', { 'data-testid': 'my-photos-none' }, t('photos_none'));
  else body = h('ul', { class: 'my-photos', 'data-testid': 'my-photos-list' }, ...photos.map(photoItem));
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'photos-title', 'data-testid': 'my-photos' },
    h('h1', { id: 'photos-title' }, t('photos_title')),
    h('p', { class: 'muted' }, t('photos_intro')),
    body,
  );
}
