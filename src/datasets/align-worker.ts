/**
 * Worker-thread entry of {@link alignDataset}: loads the backend and MTCNN once, then
 * aligns the images the main thread sends, one message per image.
 *
 * Protocol (main → worker): `{ type: 'task', task }` or `{ type: 'stop' }`.
 * Worker → main: `{ type: 'ready' }`, `{ type: 'init-error', error }`, `{ type: 'result', result }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import '../runtime/install-node.js';
import { initBackend } from '../runtime/backend.js';
import { loadMtcnn } from '../mtcnn/detector.js';
import { alignImageFile, type AlignImageConfig, type AlignTask } from './align-task.js';

/** What the main thread passes as `workerData`. */
export interface AlignWorkerData {
  detector: Parameters<typeof loadMtcnn>[0];
  config: AlignImageConfig;
}

export type AlignWorkerRequest = { type: 'task'; task: AlignTask } | { type: 'stop' };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('align-worker must run in a worker thread');
  const data = workerData as AlignWorkerData;
  let mtcnn: Awaited<ReturnType<typeof loadMtcnn>>;
  try {
    await initBackend();
    mtcnn = await loadMtcnn(data.detector);
  } catch (e) {
    port.postMessage({ type: 'init-error', error: e instanceof Error ? e.message : String(e) });
    return;
  }
  // Tasks are processed strictly one at a time: the main thread sends the next one only
  // after a result, but queue defensively anyway.
  let chain = Promise.resolve();
  port.on('message', (msg: AlignWorkerRequest) => {
    if (msg.type === 'stop') {
      chain = chain.then(() => {
        mtcnn.dispose();
        port.close();
      });
      return;
    }
    chain = chain.then(async () => {
      const result = await alignImageFile(mtcnn, msg.task, data.config);
      port.postMessage({ type: 'result', result });
    });
  });
  port.postMessage({ type: 'ready' });
}

void main();
