/** The two models, served as static files from `models/` beside the page. */
import { loadFacenetEmbedderFromUrl, loadMtcnnFromUrl, type FacenetEmbedder } from 'tfjs-facenet';

/** face-api.js's MTCNN weights (manifest + shard). */
export const MTCNN_MANIFEST_URL = 'models/mtcnn/mtcnn_model-weights_manifest.json';
/** The recognition model directory (model.json, weights, preprocessing.json). */
export const RECOGNITION_MODEL_URL = 'models/recognition/';

/** MTCNN detector + FaceNet embedder. */
export async function loadModels(): Promise<FacenetEmbedder> {
  const detector = await loadMtcnnFromUrl(MTCNN_MANIFEST_URL);
  return loadFacenetEmbedderFromUrl({ modelUrl: RECOGNITION_MODEL_URL, detector });
}
