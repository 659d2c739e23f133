// The photos waiting on the phone to be sent, each with its check-in: their bytes, scaled down on
// the phone, sit in IndexedDB (which keeps Blobs; localStorage keeps only text), under the id of
// the check-in they go with. The outbox (outbox.js) says which are waiting; signing out wipes them.

const DB = 'aftercare-app';
const STORE = 'photos';

let opening = null;

function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    }).catch((err) => {
      opening = null;
      throw err;
    });
  }
  return opening;
}

/** Runs `work(store)` in one transaction; resolves with its request's result once committed. */
async function run(mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const request = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** Keeps `blob` as the photo of check-in `checkInId`. */
export function keep(checkInId, blob) {
  return run('readwrite', (store) => store.put(blob, checkInId));
}

/** The photo kept for check-in `checkInId`, or undefined. */
export function photoOf(checkInId) {
  return run('readonly', (store) => store.get(checkInId));
}

/** Forgets the photo of check-in `checkInId` (sent, or refused). */
export function drop(checkInId) {
  return run('readwrite', (store) => store.delete(checkInId));
}

/** Forgets every photo on the phone (signing out, or another patient's link). */
export function dropAll() {
  return run('readwrite', (store) => store.clear()).catch(() => {});
}
