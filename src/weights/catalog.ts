/**
 * The catalog of MTCNN weight files that tfjs-facenet can use but does not ship.
 *
 * Each file is fetched from the public repository that published it, at a pinned commit,
 * and checked against a pinned size and SHA-256. The checksums were computed from the
 * files at those commits (and are the same bytes as the copies the project tests against).
 *
 * This module is plain data and pure functions, so it is safe to import in a browser: a
 * page can fetch the files itself from {@link weightFileUrl}.
 */
import { ConfigError } from '../errors.js';

/** The weight sets in the catalog. */
export type WeightSetName = 'caffe' | 'faceapi' | 'seed';

/** Where a file is published: a path inside a public GitHub repository at one commit. */
export interface WeightFileSource {
  /** `owner/name` of the repository. */
  repo: string;
  /** The commit the URL is pinned to (40 hex digits). */
  commit: string;
  /** Path of the file inside the repository. */
  path: string;
}

/** One file of a weight set. */
export interface WeightFile {
  /** Path of the file inside the set's folder, `/`-separated (e.g. `PNet/PNet-30.index`). */
  name: string;
  /** Exact size in bytes. */
  bytes: number;
  /** SHA-256 of the file, lowercase hex. */
  sha256: string;
  /** Where the file is downloaded from. Absent for a small file written locally from {@link WeightFile.text}. */
  source?: WeightFileSource;
  /**
   * Contents written locally instead of downloaded. Used for the seed's TensorFlow
   * `checkpoint` pointer files: the published ones also name older checkpoints
   * (e.g. `ONet-12`, `ONet-13`) that are not fetched, so a pointer naming only the
   * fetched checkpoint is written instead.
   */
  text?: string;
}

/** A named group of weight files that one loader reads from one folder. */
export interface WeightSet {
  name: WeightSetName;
  /** Folder name under a weights root or the download cache, e.g. `mtcnn-caffe`. */
  folder: string;
  /** What the weights are, in one sentence. */
  description: string;
  /** The license the files are published under, as stated by their repository. */
  license: string;
  files: readonly WeightFile[];
}

/** The host that serves raw files of public GitHub repositories. */
export const DEFAULT_WEIGHTS_BASE_URL = 'https://raw.githubusercontent.com';

const FACENET: Omit<WeightFileSource, 'path'> = {
  repo: 'davidsandberg/facenet',
  commit: '096ed770f163957c1e56efa7feeb194773920f6e',
};
const FACE_API: Omit<WeightFileSource, 'path'> = {
  repo: 'justadudewhohacks/face-api.js',
  commit: 'a86f011d72124e5fb93e59d5c4ab98f699dd5c9c',
};
const SEED: Omit<WeightFileSource, 'path'> = {
  repo: 'LeslieZhoa/tensorflow-facenet',
  commit: '886c7c6ea04de1735a8b368fc1060305a99af6eb',
};

/** The pointer file TensorFlow's `latest_checkpoint` reads, naming one checkpoint. */
function checkpointPointer(prefix: string): string {
  return `model_checkpoint_path: "${prefix}"\nall_model_checkpoint_paths: "${prefix}"\n`;
}

/** Every weight set, by name. */
export const WEIGHT_SETS: Readonly<Record<WeightSetName, WeightSet>> = {
  caffe: {
    name: 'caffe',
    folder: 'mtcnn-caffe',
    description:
      'The original MTCNN P-Net/R-Net/O-Net weights (Zhang et al. 2016) ported from Caffe, as NumPy pickles, from davidsandberg/facenet.',
    license: 'MIT',
    files: [
      {
        name: 'det1.npy',
        bytes: 27368,
        sha256: '3285cf7a3de2651c5784cb9e32013f5919aae95fd1ed1bc371dd9691affb39af',
        source: { ...FACENET, path: 'src/align/det1.npy' },
      },
      {
        name: 'det2.npy',
        bytes: 401681,
        sha256: '716b8b83e42476791c9096f14dbb09fefc88bf5c7ec876b1683f9acd52b3f39c',
        source: { ...FACENET, path: 'src/align/det2.npy' },
      },
      {
        name: 'det3.npy',
        bytes: 1557360,
        sha256: '396ead803d85d3443307ff8f45fb6aed2536579b415a4f4d4cb8f93ea6b1476a',
        source: { ...FACENET, path: 'src/align/det3.npy' },
      },
    ],
  },
  faceapi: {
    name: 'faceapi',
    folder: 'mtcnn-faceapi',
    description:
      'The same MTCNN weights converted by face-api.js: a TensorFlow.js weights manifest and one binary shard.',
    license: 'MIT',
    files: [
      {
        name: 'mtcnn_model-weights_manifest.json',
        bytes: 3134,
        sha256: 'fc566964c2af6733cd297ce596f0c87190e4cabcdbc90c9b7ce120ebe1897611',
        source: { ...FACE_API, path: 'weights/mtcnn_model-weights_manifest.json' },
      },
      {
        name: 'mtcnn_model-shard1',
        bytes: 1983400,
        sha256: '20f4d3ac278e42e9a079453441533ec4e79bb6bd2e7cf7bd33e34ee123d674cb',
        source: { ...FACE_API, path: 'weights/mtcnn_model-shard1' },
      },
    ],
  },
  seed: {
    name: 'seed',
    folder: 'mtcnn-seed',
    description:
      "The seed project's re-trained MTCNN (LeslieZhoa/tensorflow-facenet) as TensorFlow 1.x checkpoints: PNet-30, RNet-22, ONet-14.",
    license: 'none stated by the repository',
    files: [
      {
        name: 'PNet/PNet-30.index',
        bytes: 1203,
        sha256: '455a6954ab515e356720458515d87fada3e2aff636b748209ec8734cbdb6f284',
        source: { ...SEED, path: 'align/model/PNet/PNet-30.index' },
      },
      {
        name: 'PNet/PNet-30.data-00000-of-00001',
        bytes: 55700,
        sha256: '5752138f02d75d5ee1dc0315e5220729df86ebcb79403e9e8d2de37265571f60',
        source: { ...SEED, path: 'align/model/PNet/PNet-30.data-00000-of-00001' },
      },
      {
        name: 'PNet/checkpoint',
        bytes: 71,
        sha256: '22a124a40a3a09b757aa1389804710b46f9e2b1219a8561738617d4213c0956c',
        text: checkpointPointer('PNet-30'),
      },
      {
        name: 'RNet/RNet-22.index',
        bytes: 1354,
        sha256: 'ea5a4a7db3222152cf1c869f356b19fb8d831a3f834a4485ff3c3b5dbd990aad',
        source: { ...SEED, path: 'align/model/RNet/RNet-22.index' },
      },
      {
        name: 'RNet/RNet-22.data-00000-of-00001',
        bytes: 810724,
        sha256: 'f2f619e07613b77c0d4fa48d87da4156b54817598fb29152c2716b2255a4fc2a',
        source: { ...SEED, path: 'align/model/RNet/RNet-22.data-00000-of-00001' },
      },
      {
        name: 'RNet/checkpoint',
        bytes: 71,
        sha256: 'cee3f88e7454bd0008d7ac3d3556153398b3280e4fcad88659f055c57be87a09',
        text: checkpointPointer('RNet-22'),
      },
      {
        name: 'ONet/ONet-14.index',
        bytes: 1581,
        sha256: '242c41d8d7128d477e5ec4b4b366309730ed8c476509cb3dc84129e8633c457e',
        source: { ...SEED, path: 'align/model/ONet/ONet-14.index' },
      },
      {
        name: 'ONet/ONet-14.data-00000-of-00001',
        bytes: 3110276,
        sha256: 'bb1ecfea8e045828b108dd59cd36549b6ff993a2e6a46c8358a293030437cac7',
        source: { ...SEED, path: 'align/model/ONet/ONet-14.data-00000-of-00001' },
      },
      {
        name: 'ONet/checkpoint',
        bytes: 71,
        sha256: '271ed4757daa4cdf701dc31c2fbcb41973bc8f56b724cd7f1b987d20545e2d8f',
        text: checkpointPointer('ONet-14'),
      },
    ],
  },
};

/** Names of every weight set, in catalog order. */
export const WEIGHT_SET_NAMES: readonly WeightSetName[] = ['caffe', 'faceapi', 'seed'];

/**
 * The catalog entry of a weight set.
 * @throws {ConfigError} for a name that is not in the catalog.
 */
export function weightSet(name: string): WeightSet {
  if (!Object.prototype.hasOwnProperty.call(WEIGHT_SETS, name)) {
    throw new ConfigError('set', `unknown weight set "${name}" (known: ${WEIGHT_SET_NAMES.join(', ')})`);
  }
  return WEIGHT_SETS[name as WeightSetName];
}

/**
 * The download URL of a catalog file: `<baseUrl>/<owner>/<repo>/<commit>/<path>`, the
 * layout of GitHub's raw file host. A mirror that keeps the same layout can be used by
 * passing its address as `baseUrl`. Returns undefined for a file written locally.
 *
 * @param baseUrl Default {@link DEFAULT_WEIGHTS_BASE_URL}. A trailing `/` is allowed.
 */
export function weightFileUrl(file: WeightFile, baseUrl: string = DEFAULT_WEIGHTS_BASE_URL): string | undefined {
  if (!file.source) return undefined;
  const { repo, commit, path } = file.source;
  return `${baseUrl.replace(/\/+$/, '')}/${repo}/${commit}/${path}`;
}
