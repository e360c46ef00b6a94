/**
 * Small JPEG files decoded in WebAssembly: libjpeg-turbo's decoder as built into mozjpeg
 * (`@jsquash/jpeg`), called synchronously on the calling thread. For a face-sized file (LFW's
 * 250 × 250) sharp spends ≈ 2 ms of CPU, most of it setting up a libvips pipeline and passing
 * the work through libuv's thread pool; this decoder needs ≈ 0.5 ms and has no callbacks to
 * wait for. Past ≈ 0.25 MP sharp's native SIMD decoder is faster (BENCHMARKS.md, "Decoding
 * image files"), so only files it decodes to the same bytes, of at most
 * {@link WASM_JPEG_MAX_PIXELS}, come here; the rest, and any file this decoder fails on, stay
 * with sharp (decode-node.ts).
 */
import type { JpegHeader } from './jpeg-header.js';
import { nodeBuiltins } from '../runtime/node-platform.js';

/** Files of more pixels than this (512 × 512) are decoded by sharp, which is faster there. */
export const WASM_JPEG_MAX_PIXELS = 2 ** 18;

/**
 * Whether a file with `header` decodes here to exactly what sharp's pipeline gives: 8-bit
 * YCbCr, Huffman-coded (baseline, extended or progressive), upright (no EXIF rotation), no
 * ICC profile to convert from (sharp converts to sRGB through it), complete (sharp refuses a
 * truncated file, libjpeg pads it with gray), and small.
 */
export function wasmDecodesJpeg(header: JpegHeader, maxPixels: number): boolean {
  return (
    header.precision === 8 &&
    header.components === 3 &&
    (header.frame === 0xc0 || header.frame === 0xc1 || header.frame === 0xc2) &&
    (header.orientation === undefined || header.orientation === 1) &&
    !header.hasIccProfile &&
    (header.adobeTransform === undefined || header.adobeTransform === 1) &&
    header.endsWithEoi &&
    header.width > 0 &&
    header.height > 0 &&
    header.width * header.height <= Math.min(maxPixels, WASM_JPEG_MAX_PIXELS)
  );
}

interface Decoded {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}
interface Codec {
  decode(data: Uint8Array, preserveOrientation: boolean): Decoded | null;
}
type CodecFactory = (opts: {
  noInitialRun: boolean;
  print: (text: string) => void;
  printErr: (text: string) => void;
  instantiateWasm: (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) => WebAssembly.Exports;
}) => Promise<Codec>;

let codec: Promise<Codec> | undefined;

function loadCodec(): Promise<Codec> {
  codec ??= (async () => {
    const { module, fsp } = nodeBuiltins('decoding JPEG files');
    const file = module.createRequire(import.meta.url).resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm');
    const compiled = await WebAssembly.compile(await fsp.readFile(file));
    const { default: factory } = (await import('@jsquash/jpeg/codec/dec/mozjpeg_dec.js')) as { default: CodecFactory };
    return withImageData(() =>
      factory({
        noInitialRun: true,
        // libjpeg prints its complaints; the caller hears of a failure as a null and asks sharp.
        print: () => undefined,
        printErr: () => undefined,
        instantiateWasm(imports, done) {
          const instance = new WebAssembly.Instance(compiled, imports);
          done(instance);
          return instance.exports;
        },
      }),
    );
  })();
  // A load that failed stays failed (the package is missing or broken): every file then goes
  // to sharp without paying for another attempt.
  return codec;
}

/** A stand-in for the browser's `ImageData`, which the codec builds its result with. */
class PixelBox {
  constructor(
    readonly data: Uint8ClampedArray,
    readonly width: number,
    readonly height: number,
  ) {}
}

/**
 * Run `fn` with a global `ImageData`. The codec returns its pixels as one and, in Node, would
 * otherwise install a class of its own on `globalThis` for good; it is lent for the call here.
 */
function withImageData<T>(fn: () => T): T {
  const g = globalThis as { ImageData?: unknown };
  if (g.ImageData !== undefined) return fn();
  g.ImageData = PixelBox;
  try {
    return fn();
  } finally {
    delete g.ImageData;
  }
}

/**
 * Decode a JPEG file that {@link wasmDecodesJpeg} accepts into 8-bit RGB, or null when the
 * decoder fails on it (the caller then asks sharp, which says what is wrong with the file).
 */
export async function decodeJpegInWasm(bytes: Uint8Array): Promise<{ data: Uint8Array; width: number; height: number } | null> {
  let loaded: Codec;
  try {
    loaded = await loadCodec();
  } catch {
    return null;
  }
  let rgba: Decoded | null;
  try {
    rgba = withImageData(() => loaded.decode(bytes, true));
  } catch {
    // libjpeg's fatal errors end in an Emscripten abort, after which the instance is not to
    // be trusted: the next file gets a fresh one.
    codec = undefined;
    return null;
  }
  if (!rgba) return null;
  // RGBA to RGB within the codec's own buffer (each pixel moves down, never onto one still to
  // be read): no second image-sized allocation, which on a thread decoding many files is
  // what brings on V8's full collections.
  const { width, height } = rgba;
  const data = new Uint8Array(rgba.data.buffer, rgba.data.byteOffset, rgba.data.byteLength);
  const length = width * height * 3;
  for (let i = 0, j = 0; j < length; i += 4, j += 3) {
    data[j] = data[i]!;
    data[j + 1] = data[i + 1]!;
    data[j + 2] = data[i + 2]!;
  }
  return { data: data.subarray(0, length), width, height };
}
