/** Keeping the gallery in the browser: its file bytes (`encodeGallery`) in IndexedDB. */
import { decodeGallery, encodeGallery, Gallery, IncompatibleFileError, type Embedder } from 'tfjs-facenet';

const DB_NAME = 'tfjs-facenet-webcam';
const STORE = 'galleries';
const KEY = 'default';

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function request<T>(make: (store: IDBObjectStore) => IDBRequest<T>, mode: IDBTransactionMode): Promise<T> {
  return openDb().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        const req = make(db.transaction(STORE, mode).objectStore(STORE));
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      }).finally(() => db.close()),
  );
}

/** An empty gallery for this embedder's embeddings. */
export function newGallery(embedder: Embedder): Gallery {
  return Gallery.create({
    dimension: embedder.dimension,
    fingerprint: embedder.fingerprint,
    preprocessing: { ...embedder.preprocessing },
  });
}

/**
 * The stored gallery, or a new one when none is stored or the stored one was made with
 * another model (then `discarded` says why).
 */
export async function loadStoredGallery(embedder: Embedder): Promise<{ gallery: Gallery; discarded?: string }> {
  const bytes = await request<Uint8Array | undefined>((s) => s.get(KEY), 'readonly');
  if (!bytes) return { gallery: newGallery(embedder) };
  try {
    return { gallery: await decodeGallery(bytes, 'stored gallery', { expect: embedder }) };
  } catch (e) {
    if (!(e instanceof IncompatibleFileError)) throw e;
    return { gallery: newGallery(embedder), discarded: e.message };
  }
}

/** Store the gallery (replacing the previous one). */
export async function storeGallery(gallery: Gallery): Promise<void> {
  const bytes = await encodeGallery(gallery);
  await request((s) => s.put(bytes, KEY), 'readwrite');
}
