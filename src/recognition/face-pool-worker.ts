/**
 * Worker-thread entry of {@link FacePool}: its own TensorFlow.js backend (one tfjs-wasm
 * instance per thread), MTCNN loaded at start, the recognition model loaded on the first
 * embedding job. Jobs run strictly one after another, in the order they arrive; a file job
 * comes with the pixels the pool decoded for it.
 *
 * Protocol (main → worker): `{ type: 'job', job, decoded? }`, `{ type: 'stats' }` or `{ type: 'stop' }`.
 * Worker → main: `{ type: 'ready' }`, `{ type: 'init-error', error }`,
 * `{ type: 'result', id, result }`, `{ type: 'failed', id, error }`, `{ type: 'stats', stats }`
 * (answered at once, not after the queued jobs).
 */
import * as v8 from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import '@tensorflow/tfjs-layers';
import '../runtime/install-node.js';
import { countCollections } from '../runtime/gc-count.js';
import { FacenetError, NoFaceError } from '../errors.js';
import { initBackend } from '../runtime/backend.js';
import type { DecodedImage } from '../image/decode-node.js';
import { scaleDetection } from '../face/types.js';
import { loadMtcnn, type Mtcnn } from '../mtcnn/detector.js';
import { loadFacenetEmbedder } from './load.js';
import { embedAlignedFace } from './aligned.js';
import type { FacenetEmbedder } from './embedder.js';
import type { PoolError, PoolJob, PoolJobMessage, PoolJobResult, PoolWorkerData, PoolImage, PoolWorkerStats } from './face-pool.js';
import type { ImageInput } from '../image/types.js';

function errorOf(e: unknown): PoolError {
  if (e instanceof FacenetError) return { code: e.code, name: e.name, message: e.message };
  return { name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) };
}

/** A pool image as the detector and embedder take it (files decode here, in the worker). */
function input(image: PoolImage): ImageInput {
  return typeof image === 'string' ? image : { data: image.data, width: image.width, height: image.height, channels: image.channels ?? 3 };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('face-pool-worker must run in a worker thread');
  const data = workerData as PoolWorkerData;
  const collections = countCollections();
  let mtcnn: Mtcnn;
  try {
    await initBackend(data.backend ? { backend: data.backend } : {});
    mtcnn = await loadMtcnn(data.detector);
  } catch (e) {
    port.postMessage({ type: 'init-error', error: errorOf(e) });
    return;
  }
  let embedder: Promise<FacenetEmbedder> | undefined;
  // The embedder shares this thread's detector (it does not own it).
  const getEmbedder = () => {
    if (!data.modelDir) throw new FacenetError('POOL_NO_MODEL', 'this face pool was started without a recognition model (option `model`)');
    embedder ??= loadFacenetEmbedder({ modelDir: data.modelDir, detector: mtcnn, preprocessing: data.preprocessing });
    return embedder;
  };

  const run = async (job: PoolJob, raw: DecodedImage | null): Promise<PoolJobResult> => {
    if (job.kind === 'track') {
      const faces = await mtcnn.track(input(job.image), job.previous, job.options);
      return { kind: 'track', faces };
    }
    // A file the pool decoded: boxes go back in its own pixels, errors name it.
    const image = raw ?? input(job.image);
    const own = raw ? 1 / raw.scale : 1;
    switch (job.kind) {
      case 'detect': {
        const faces = (await mtcnn.detect(image, job.options)).map((f) => scaleDetection(f, own));
        const { width, height } = raw ? { width: raw.sourceWidth, height: raw.sourceHeight } : (job.image as Exclude<PoolImage, string>);
        return { kind: 'detect', faces, width, height };
      }
      case 'embed': {
        const e = await getEmbedder();
        if (job.aligned) return { kind: 'embed', embedding: await embedAlignedFace(e, image) };
        try {
          return { kind: 'embed', embedding: (await e.embed([image]))[0] };
        } catch (err) {
          throw raw && err instanceof NoFaceError ? new NoFaceError(job.image as string) : err;
        }
      }
      case 'embedAll': {
        const faces = await (await getEmbedder()).embedAllFaces(image);
        return { kind: 'embedAll', faces: faces.map((f) => ({ ...f, detection: scaleDetection(f.detection, own) })) };
      }
    }
  };

  let chain = Promise.resolve();
  port.on('message', (msg: PoolJobMessage | { type: 'stats' } | { type: 'stop' }) => {
    if (msg.type === 'stats') {
      const stats: PoolWorkerStats = {
        minorCollections: collections.minor,
        majorCollections: collections.major,
        heapUsedMB: v8.getHeapStatistics().used_heap_size / 2 ** 20,
      };
      port.postMessage({ type: 'stats', stats });
      return;
    }
    if (msg.type === 'stop') {
      chain = chain.then(async () => {
        if (embedder) (await embedder.catch(() => undefined))?.dispose();
        mtcnn.dispose();
        collections.stop();
        port.close();
      });
      return;
    }
    const { job, decoded } = msg;
    chain = chain.then(async () => {
      try {
        const result = await run(job, decoded ?? null);
        // Embeddings travel as copies; detections are plain objects.
        port.postMessage({ type: 'result', id: job.id, result });
      } catch (e) {
        port.postMessage({ type: 'failed', id: job.id, error: errorOf(e) });
      }
    });
  });
  port.postMessage({ type: 'ready' });
}

void main();
