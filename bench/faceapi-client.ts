/**
 * Main-thread side of the face-api.js baseline: starts `faceapi-worker.ts` in a worker thread
 * (same process, separate JS realm — see faceapi-harness.ts for why) and wraps its messages
 * in promises. Never imports face-api.js itself.
 */
import { Worker } from 'node:worker_threads';

/** Settings passed to face-api's `MtcnnOptions`. */
export interface FaceApiSettings {
  minFaceSize: number;
  scaleFactor: number;
  thresholds: [number, number, number];
}

/** One face found by face-api: `[x1, y1, x2, y2]` in pixels and its score. */
export interface FaceApiFace {
  box: [number, number, number, number];
  score: number;
}

/** One timed face-api detection. Stage times are face-api's own (`Date.now`, whole ms). */
export interface FaceApiResult {
  faces: FaceApiFace[];
  stats: { stage1: number; stage2: number; stage3: number; rnetInputs: number; onetInputs: number };
  /** Wall ms of the call, measured in the worker. */
  wall: number;
  /** Process CPU ms during the call (the main thread is idle meanwhile). */
  cpu: number;
}

export type FaceApiRequest = { seq: number } & (
  | { op: 'load'; dir: string; settings: FaceApiSettings }
  | { op: 'image'; image: number; data: Uint8Array; width: number; height: number }
  | { op: 'detect'; image: number }
  | { op: 'tensors' }
  | { op: 'dispose' }
);

export type FaceApiResponse = { seq: number } & ({ ok: true; result: unknown } | { ok: false; error: string });

type Op = FaceApiRequest extends infer R ? (R extends { op: infer O } ? O : never) : never;
type Body<O extends Op> = Omit<Extract<FaceApiRequest, { op: O }>, 'seq' | 'op'>;

/** A face-api MTCNN running in a worker thread. */
export interface FaceApiClient {
  backend: string;
  tfVersion: string;
  /** Hand an RGB image to the worker under the number `image`. */
  addImage(image: number, data: Uint8Array, width: number, height: number): Promise<void>;
  detect(image: number): Promise<FaceApiResult>;
  numTensors(): Promise<number>;
  close(): Promise<void>;
}

/** Start the worker and load face-api's MTCNN weights from `dir`. */
export async function startFaceApi(dir: string, settings: FaceApiSettings): Promise<FaceApiClient> {
  // The worker is TypeScript: register tsx's loader inside it before importing it.
  const api = import.meta.resolve('tsx/esm/api');
  const file = new URL('./faceapi-worker.ts', import.meta.url).href;
  const worker = new Worker(
    `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(file)}); });`,
    { eval: true },
  );
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let seq = 0;
  worker.on('message', (res: FaceApiResponse) => {
    const p = pending.get(res.seq);
    pending.delete(res.seq);
    if (res.ok) p?.resolve(res.result);
    else p?.reject(new Error(`face-api worker: ${res.error}`));
  });
  worker.on('error', (e) => {
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  });
  function call<O extends Op>(op: O, body: Body<O>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const s = ++seq;
      pending.set(s, { resolve, reject });
      worker.postMessage({ seq: s, op, ...body });
    });
  }
  const info = (await call('load', { dir, settings })) as { backend: string; tfVersion: string };
  return {
    ...info,
    async addImage(image, data, width, height) {
      await call('image', { image, data, width, height });
    },
    detect: (image) => call('detect', { image }) as Promise<FaceApiResult>,
    numTensors: () => call('tensors', {}) as Promise<number>,
    async close() {
      await call('dispose', {});
      await worker.terminate();
    },
  };
}
