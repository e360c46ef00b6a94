/**
 * Typed errors. Every error the library throws on bad input is a {@link FacenetError}
 * with a `code` and, where there is one, the thing at fault (a file, an option, a tensor).
 */

/** Base class of every error thrown by tfjs-facenet. */
export class FacenetError extends Error {
  /** A stable machine-readable code, e.g. `IMAGE_DECODE`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An image could not be read or decoded (corrupt, truncated, empty, not an image). */
export class ImageDecodeError extends FacenetError {
  constructor(
    /** The file path, or a description of the in-memory input. */
    readonly source: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super('IMAGE_DECODE', `cannot decode image ${source}: ${reason}`, options);
  }
}

/** A file that was expected does not exist or cannot be read. */
export class FileNotFoundError extends FacenetError {
  constructor(readonly path: string, what = 'file') {
    super('FILE_NOT_FOUND', `${what} not found: ${path}`);
  }
}

/** A weights or checkpoint file is malformed or does not hold what is expected. */
export class WeightsFormatError extends FacenetError {
  constructor(readonly source: string, reason: string, options?: { cause?: unknown }) {
    super('WEIGHTS_FORMAT', `bad weights in ${source}: ${reason}`, options);
  }
}

/** An option or configuration value is out of range or inconsistent. */
export class ConfigError extends FacenetError {
  constructor(readonly option: string, reason: string) {
    super('CONFIG', `invalid option ${option}: ${reason}`);
  }
}

/** A tensor or array has the wrong shape or dtype. */
export class ShapeError extends FacenetError {
  constructor(readonly argument: string, expected: string, actual: string) {
    super('SHAPE', `${argument}: expected ${expected}, got ${actual}`);
  }
}

/** A stored file (gallery, checkpoint) is damaged or was made for something else. */
export class IncompatibleFileError extends FacenetError {
  constructor(readonly path: string, reason: string) {
    super('INCOMPATIBLE_FILE', `${path}: ${reason}`);
  }
}

/** A downloaded file does not have the size or SHA-256 checksum that the weights catalog pins. */
export class ChecksumError extends FacenetError {
  constructor(
    /** The file, as named in the catalog (e.g. `mtcnn-caffe/det1.npy`). */
    readonly file: string,
    /** The pinned SHA-256 (hex). */
    readonly expected: string,
    /** The SHA-256 (hex) of the bytes received, or a size mismatch description. */
    readonly actual: string,
  ) {
    super('CHECKSUM', `checksum mismatch for ${file}: expected sha256 ${expected}, got ${actual}`);
  }
}

/** A download failed: an HTTP error status, a refused or cut connection. */
export class DownloadError extends FacenetError {
  constructor(
    /** The URL that was being fetched. */
    readonly url: string,
    reason: string,
    /** The HTTP status, when the server answered with an error status. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super('DOWNLOAD', `download of ${url} failed: ${reason}`, options);
  }
}

/** A text or data file (e.g. LFW `pairs.txt`) does not follow its format; names the file and line. */
export class DataFormatError extends FacenetError {
  constructor(
    /** The file (or a description of the in-memory input). */
    readonly source: string,
    reason: string,
    /** 1-based line number of the offending line, when the input is line-oriented. */
    readonly line?: number,
  ) {
    super('DATA_FORMAT', `${source}${line !== undefined ? `:${line}` : ''}: ${reason}`);
  }
}

/** No face was found in an image where one was required (enrollment, `Embedder.embed`). */
export class NoFaceError extends FacenetError {
  constructor(
    /** The file path, or a description of the in-memory input (e.g. `image 3`). */
    readonly source: string,
  ) {
    super('NO_FACE', `no face found in ${source}`);
  }
}

/** No recognition model where one was expected (e.g. the default model has not been installed). */
export class ModelNotFoundError extends FacenetError {
  constructor(
    /** The model directory (or URL) that was looked in. */
    readonly location: string,
    hint = '',
  ) {
    super('MODEL_NOT_FOUND', `no recognition model at ${location} (no model.json)${hint ? `: ${hint}` : ''}`);
  }
}

/**
 * A Node-only feature (files, folders, image decoding with sharp) was used without the Node
 * platform: import from `tfjs-facenet/node` (which installs it) instead of `tfjs-facenet`.
 */
export class NodeOnlyError extends FacenetError {
  constructor(
    /** What was attempted, e.g. `reading MTCNN weights from a folder`. */
    readonly feature: string,
  ) {
    super(
      'NODE_ONLY',
      `${feature} needs Node's file system: in Node, import from 'tfjs-facenet/node' (it installs the Node platform); in the browser, pass URLs, tensors or images instead`,
    );
  }
}

/** A lock file could not be taken in time: another process is writing the same file. */
export class LockTimeoutError extends FacenetError {
  constructor(
    /** The lock file (`<file>.lock`). */
    readonly lockPath: string,
    /** How long was waited (ms). */
    readonly waitedMs: number,
    /** What the lock file says about its holder (host, pid, time), as read. */
    readonly holder: string,
  ) {
    super('LOCKED', `${lockPath} is held by another process (${holder}) after waiting ${Math.round(waitedMs / 1000)} s; if no other process is writing, delete the lock file`);
  }
}

/** A model object or tensor was used after it was disposed. */
export class DisposedError extends FacenetError {
  constructor(
    /** What was used, e.g. `FacenetEmbedder` or `image tensor`. */
    readonly what: string,
  ) {
    super('DISPOSED', `${what} was used after dispose()`);
  }
}
