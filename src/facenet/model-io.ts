/**
 * Saving and loading FaceNet models in the TensorFlow.js layers format (`model.json` +
 * binary weights) through `tf.io` handlers.
 *
 * In the browser the handlers of `tf.io` apply (`indexeddb://…`, `localstorage://…`,
 * `downloads://…`, `http(s)://…`). In Node, `@tensorflow/tfjs-core` has no file handler
 * without `@tensorflow/tfjs-node`, so {@link fileSystemHandler} provides one.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { FileNotFoundError, WeightsFormatError } from '../errors.js';
import { quantizeArtifacts, type WeightStorage } from './quantize.js';
import { L2Normalize, ScaledResidual, SlimBatchNorm, ZeroPadChannels, ChannelAffine } from './layers.js';
import { nodeBuiltins } from '../runtime/node-platform.js';

/**
 * The custom layers a saved topology names. Importing layers.js registers them; they are
 * registered again (idempotently) when a model is loaded, because bundlers drop a bare
 * side-effect import from this package, which is marked free of side effects.
 */
const CUSTOM_LAYERS = [SlimBatchNorm, ScaledResidual, L2Normalize, ZeroPadChannels, ChannelAffine];

/** Name of the topology file in a model directory. */
export const MODEL_JSON = 'model.json';

const WEIGHTS_FILE = /^weights-[0-9a-f]{16}\.bin$/;

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

/** Bytes a manifest's weights take (throws for quantized or string weights, which this library never writes). */
function manifestBytes(specs: tf.io.WeightsManifestEntry[], source: string): number {
  let total = 0;
  for (const s of specs) {
    const bytes = s.quantization ? BYTES_PER_ELEMENT[s.quantization.dtype] : BYTES_PER_ELEMENT[s.dtype];
    if (bytes === undefined) throw new WeightsFormatError(source, `weight ${s.name} has unsupported dtype ${s.dtype}`);
    total += bytes * s.shape.reduce((a, b) => a * b, 1);
  }
  return total;
}

/**
 * A `tf.io.IOHandler` that saves to / loads from a directory (Node).
 *
 * Saving writes the weights to `weights-<content tag>.bin`, then `model.json` naming
 * that file, each atomically (temporary file + rename); weights files no longer named
 * by `model.json` are removed afterwards. A crash at any point leaves the previous model
 * or the new one, never a `model.json` naming weights that are not all there.
 */
export function fileSystemHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const { writeFileAtomic } = await import('../util/atomic.js');
      const { readdir, rm } = nodeBuiltins('saving and loading models in folders').fsp;
      const path = nodeBuiltins('saving and loading models in folders').path;
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new WeightsFormatError(dir, 'binary (GraphDef) topologies cannot be saved by this handler');
      }
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.concatenateArrayBuffers(artifacts.weightData);
      const bytes = new Uint8Array(weightData);
      const { createHash } = nodeBuiltins('saving and loading models in folders').crypto;
      const weightsName = `weights-${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.bin`;
      const modelJSON: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [weightsName], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) modelJSON.trainingConfig = artifacts.trainingConfig;
      if (artifacts.signature) modelJSON.signature = artifacts.signature;
      if (artifacts.userDefinedMetadata) modelJSON.userDefinedMetadata = artifacts.userDefinedMetadata;
      await writeFileAtomic(path.join(dir, weightsName), bytes);
      await writeFileAtomic(path.join(dir, MODEL_JSON), JSON.stringify(modelJSON));
      for (const f of await readdir(dir)) {
        if (WEIGHTS_FILE.test(f) && f !== weightsName) await rm(path.join(dir, f), { force: true });
      }
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const { readFile } = nodeBuiltins('saving and loading models in folders').fsp;
      const path = nodeBuiltins('saving and loading models in folders').path;
      const jsonPath = path.join(dir, MODEL_JSON);
      let text: string;
      try {
        text = await readFile(jsonPath, 'utf8');
      } catch {
        throw new FileNotFoundError(jsonPath, 'model.json');
      }
      let modelJSON: tf.io.ModelJSON;
      try {
        modelJSON = JSON.parse(text) as tf.io.ModelJSON;
      } catch (e) {
        throw new WeightsFormatError(jsonPath, 'not valid JSON', { cause: e });
      }
      if (modelJSON.modelTopology == null || !Array.isArray(modelJSON.weightsManifest)) {
        throw new WeightsFormatError(jsonPath, 'no modelTopology / weightsManifest: not a TensorFlow.js layers model');
      }
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const file = path.join(dir, p);
            let buf: Buffer;
            try {
              buf = await readFile(file);
            } catch {
              throw new FileNotFoundError(file, 'weights file');
            }
            buffers.push(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
          }
        }
        const data = tf.io.concatenateArrayBuffers(buffers);
        const expected = manifestBytes(specs, jsonPath);
        if (data.byteLength !== expected) {
          throw new WeightsFormatError(jsonPath, `weights files hold ${data.byteLength} bytes, the manifest needs ${expected}`);
        }
        return [specs, data];
      });
    },
  };
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

/** The directory of a `file://dir` or `file://dir/model.json` URL, or of a plain path. */
function directoryOf(location: string): string {
  let dir = location.startsWith('file://') ? location.slice('file://'.length) : location;
  if (dir.endsWith(`/${MODEL_JSON}`)) dir = dir.slice(0, -MODEL_JSON.length - 1);
  return dir;
}

/** A handler for `location`: a directory path or `file://` URL in Node, else a `tf.io` URL. */
function resolveHandler(location: string | tf.io.IOHandler): string | tf.io.IOHandler {
  if (typeof location !== 'string') return location;
  if (location.startsWith('file://') || (!SCHEME.test(location) && isNode())) {
    return fileSystemHandler(directoryOf(location));
  }
  return location;
}

/**
 * Save a model: `location` is a directory (Node; also `file://dir`), a `tf.io` URL
 * (`indexeddb://name`, `localstorage://name`, `downloads://name`, `http(s)://…`), or any IOHandler.
 */
export async function saveModel(
  model: tfl.LayersModel,
  location: string | tf.io.IOHandler,
  opts: SaveModelOptions = {},
): Promise<tf.io.SaveResult> {
  const target = resolveHandler(location);
  const storageOf = opts.weightStorage;
  if (!storageOf) return model.save(target);
  const inner = typeof target === 'string' ? tf.io.getSaveHandlers(target)[0] : target;
  if (!inner?.save) throw new WeightsFormatError(String(location), 'no save handler for this location');
  return model.save({ save: (artifacts) => inner.save!(quantizeArtifacts(artifacts, storageOf)) });
}

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /**
   * How each weight is stored (by weight name): float32 (undefined, the default), `'float16'`,
   * or 8-bit. Loading dequantizes to float32.
   */
  weightStorage?: (weightName: string) => WeightStorage;
}

/**
 * Load a model saved by {@link saveModel} (or any TensorFlow.js layers model using the
 * layers of this library). `location` as in {@link saveModel}; in Node a missing
 * directory raises {@link FileNotFoundError}.
 */
export async function loadModel(location: string | tf.io.IOHandler): Promise<tfl.LayersModel> {
  for (const layer of CUSTOM_LAYERS) tf.serialization.registerClass(layer);
  return tfl.loadLayersModel(resolveHandler(location));
}

let routerRegistered = false;

/**
 * Make `file://` URLs work with `model.save('file://dir')` / `tf.loadLayersModel('file://dir/model.json')`
 * in Node, unless another `file://` handler (tfjs-node's) is registered. Idempotent.
 */
export function registerFileSystemRouter(): void {
  if (routerRegistered || !isNode()) return;
  routerRegistered = true;
  if (tf.io.getSaveHandlers('file:///probe').length > 0) return;
  const router = (url: string | string[]): tf.io.IOHandler | null => {
    if (Array.isArray(url) || !url.startsWith('file://')) return null;
    return fileSystemHandler(directoryOf(url));
  };
  // tf.io routers return null for URLs they do not handle, although the type says otherwise.
  const asRouter = router as unknown as Parameters<typeof tf.io.registerSaveRouter>[0];
  tf.io.registerSaveRouter(asRouter);
  tf.io.registerLoadRouter(asRouter);
}
