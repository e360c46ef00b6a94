/**
 * Example: face recognition on the camera in the browser. Each camera frame is copied to a
 * canvas, its faces detected (MTCNN) and recognised (FaceNet) against a gallery kept in
 * IndexedDB; boxes, names, distances and the frame rate are drawn over the video. Faces are
 * followed from frame to frame (`FaceFollower`: a full detection every 10th frame, each face
 * embedded when it appears and about once a second). People are enrolled from uploaded
 * photos or from the camera.
 */
import { FaceFollower, FacenetError, type FacenetEmbedder, type Gallery, type IdentifiedFace } from 'tfjs-facenet';
import { startBackend } from './backend.js';
import { loadModels } from './models.js';
import { loadStoredGallery, storeGallery } from './gallery-store.js';
import { drawFaces } from './overlay.js';
import { faceLabel } from '../../common/labels.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const video = $<HTMLVideoElement>('camera');
const overlay = $<HTMLCanvasElement>('overlay');
const status = $<HTMLSpanElement>('status');
const message = $<HTMLParagraphElement>('enroll-message');

function setStatus(state: 'loading' | 'ready' | 'error', text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

/** The last processed frame and what was found in it (read by automated tests). */
export interface FrameResult {
  /** Frames processed since the page started. */
  frame: number;
  gallerySize: number;
  faces: IdentifiedFace[];
  /** A full detection ran on this frame (else the faces were followed from an earlier one). */
  detected: boolean;
  /** Faces embedded in this frame (the others keep the names of their last embedding). */
  embedded: number;
  /** The exact pixels that were processed. */
  canvas: HTMLCanvasElement;
}

let embedder: FacenetEmbedder;
let gallery: Gallery;
let follower: FaceFollower;
let last: FrameResult | null = null;
/** Serialises model use: enrolment waits for the frame in progress, and vice versa. */
let busy: Promise<unknown> = Promise.resolve();
const exclusive = <T>(job: () => Promise<T>): Promise<T> => {
  const run = busy.then(job, job);
  busy = run.catch(() => undefined);
  return run;
};

function showPeople(): void {
  const list = $<HTMLUListElement>('people');
  list.replaceChildren(
    ...gallery.identities.map((name) => {
      const li = document.createElement('li');
      li.dataset.name = name;
      li.textContent = `${name} (${gallery.count(name)}) `;
      const forget = document.createElement('button');
      forget.textContent = 'forget';
      forget.onclick = () =>
        void exclusive(async () => {
          gallery.remove(name);
          // Followed faces keep the names they were given: start over with the new gallery.
          follower.reset();
          await storeGallery(gallery);
          showPeople();
        });
      li.append(forget);
      return li;
    }),
  );
}

function showFaces(faces: readonly IdentifiedFace[]): void {
  $<HTMLOListElement>('faces').replaceChildren(
    ...faces.map((f) => {
      const li = document.createElement('li');
      li.dataset.name = f.name ?? '';
      li.dataset.distance = String(f.distance);
      li.dataset.box = f.box.map((v) => v.toFixed(1)).join(',');
      li.textContent = faceLabel(f.name, f.distance);
      return li;
    }),
  );
}

/** Add the main face of each image to `name` (or to the image's file name). */
async function enroll(images: { image: ImageBitmap | HTMLCanvasElement; name: string; source: string }[]): Promise<void> {
  const done: string[] = [];
  const failed: string[] = [];
  await exclusive(async () => {
    for (const { image, name, source } of images) {
      try {
        const [embedding] = await embedder.embed([image]);
        gallery.add(name, embedding, [source]);
        done.push(`${name} ← ${source}`);
      } catch (e) {
        if (!(e instanceof FacenetError)) throw e;
        failed.push(`${source}: ${e.message}`);
      }
    }
    follower.reset();
    await storeGallery(gallery);
  });
  message.textContent = [...done.map((d) => `enrolled ${d}`), ...failed.map((f) => `not enrolled: ${f}`)].join('; ');
  message.dataset.enrolled = String(done.length);
  showPeople();
}

function enteredName(fallback: string): string {
  return $<HTMLInputElement>('enroll-name').value.trim() || fallback;
}

async function startCamera(): Promise<void> {
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  await video.play();
}

/** Detect and recognise frame after frame, as fast as the models go. */
async function recognitionLoop(): Promise<void> {
  const frame = document.createElement('canvas');
  const ctx = frame.getContext('2d', { willReadFrequently: true })!;
  let processed = 0;
  let frames = 0;
  let started = performance.now();
  for (;;) {
    if (video.readyState < 2) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    frame.width = overlay.width = video.videoWidth;
    frame.height = overlay.height = video.videoHeight;
    ctx.drawImage(video, 0, 0);
    const pixels = { data: ctx.getImageData(0, 0, frame.width, frame.height).data, width: frame.width, height: frame.height, channels: 4 as const };
    const { faces, detected, embedded } = await exclusive(() => follower.next(pixels));
    drawFaces(overlay, faces);
    showFaces(faces);
    const snapshot = document.createElement('canvas');
    snapshot.width = frame.width;
    snapshot.height = frame.height;
    snapshot.getContext('2d')!.drawImage(frame, 0, 0);
    last = { frame: processed++, gallerySize: gallery.size, faces, detected, embedded, canvas: snapshot };
    frames++;
    const seconds = (performance.now() - started) / 1000;
    $<HTMLSpanElement>('fps').textContent = `fps ${(frames / seconds).toFixed(1)}`;
    $<HTMLSpanElement>('fps').dataset.frames = String(frames);
    if (seconds > 10) {
      // A sliding measure: restart the count every 10 s.
      frames = 0;
      started = performance.now();
    }
    await new Promise((r) => requestAnimationFrame(r));
  }
}

async function main(): Promise<void> {
  const backend = await startBackend();
  embedder = await loadModels();
  const stored = await loadStoredGallery(embedder);
  gallery = stored.gallery;
  // About one embedding per face per second at the 15–30 fps a camera delivers.
  follower = new FaceFollower(gallery, embedder, { detectEvery: 10, embedEveryFrames: 20 });
  if (stored.discarded) message.textContent = `stored gallery discarded: ${stored.discarded}`;
  showPeople();

  $<HTMLInputElement>('enroll-files').onchange = async (ev) => {
    const input = ev.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = '';
    const images = await Promise.all(
      files.map(async (f) => ({ image: await createImageBitmap(f), name: enteredName(f.name.replace(/\.[^.]+$/, '')), source: f.name })),
    );
    await enroll(images);
  };
  $<HTMLButtonElement>('enroll-snapshot').onclick = async () => {
    const name = enteredName('');
    if (!name) {
      message.textContent = 'type a name first';
      return;
    }
    const shot = document.createElement('canvas');
    shot.width = video.videoWidth;
    shot.height = video.videoHeight;
    shot.getContext('2d')!.drawImage(video, 0, 0);
    await enroll([{ image: shot, name, source: `camera ${new Date().toISOString()}` }]);
  };

  await startCamera();
  setStatus('ready', `ready (${backend.name}, model ${embedder.fingerprint.slice(0, 8)}, ${embedder.preprocessing.imageSize} px)`);
  (globalThis as { facenetDemo?: unknown }).facenetDemo = {
    /** The last processed frame: its results and its pixels as a PNG data URL. */
    lastFrame: () =>
      last && {
        frame: last.frame,
        gallerySize: last.gallerySize,
        detected: last.detected,
        embedded: last.embedded,
        faces: last.faces.map((f) => ({ name: f.name, distance: f.distance, box: f.box })),
        png: last.canvas.toDataURL('image/png'),
      },
  };
  await recognitionLoop();
}

main().catch((e: unknown) => {
  console.error(e);
  setStatus('error', e instanceof Error ? e.message : String(e));
});
