/**
 * Worker-thread side of the face-api.js baseline: loads face-api's MTCNN in its own JS realm
 * (so its tfjs-core 1.7 gets its own engine), keeps the benchmark images as in-memory
 * canvases and answers detection requests with the faces and the time spent.
 */
import { parentPort } from 'node:worker_threads';
import { loadFaceApiMtcnn, MemCanvas, type FaceApiMtcnn } from './faceapi-harness.js';
import type { FaceApiRequest, FaceApiResponse } from './faceapi-client.js';

const port = parentPort;
if (!port) throw new Error('faceapi-worker.ts must run in a worker thread');
let model: FaceApiMtcnn | null = null;
const canvases = new Map<number, MemCanvas>();

function live(): FaceApiMtcnn {
  if (!model) throw new Error('face-api MTCNN not loaded');
  return model;
}

async function handle(req: FaceApiRequest): Promise<unknown> {
  switch (req.op) {
    case 'load':
      model = await loadFaceApiMtcnn(req.dir, req.settings);
      return { backend: model.backend, tfVersion: model.tfVersion };
    case 'image':
      canvases.set(req.image, MemCanvas.fromRgb(req.data, req.width, req.height));
      return null;
    case 'detect': {
      const canvas = canvases.get(req.image);
      if (!canvas) throw new Error(`no image ${req.image}`);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const out = await live().detect(canvas);
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      return { ...out, wall, cpu: (c.user + c.system) / 1000 };
    }
    case 'tensors':
      return live().numTensors();
    case 'dispose':
      model?.dispose();
      model = null;
      return null;
  }
}

port.on('message', (req: FaceApiRequest) => {
  handle(req).then(
    (result) => port.postMessage({ seq: req.seq, ok: true, result } satisfies FaceApiResponse),
    (e: unknown) => port.postMessage({ seq: req.seq, ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) } satisfies FaceApiResponse),
  );
});
