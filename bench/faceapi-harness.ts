/**
 * Running face-api.js 0.22.2's MTCNN in Node without the `canvas` package, for the detection
 * benchmark's baseline. Import this only inside the face-api worker (`faceapi-worker.ts`):
 * tfjs-core keeps its engine and kernel registry on `globalThis`, so face-api's tfjs-core 1.7
 * and our 4.22 loaded in one thread would share one engine (and one `cpu` backend) and break
 * each other.
 *
 * face-api's `Mtcnn.forwardInput` refuses tensors (it reads the image with
 * `tf.browser.fromPixels(canvas)` and cuts the R-Net / O-Net patches with 2-D canvas calls), so
 * it is handed a minimal in-memory canvas: RGBA pixel storage with `getImageData`,
 * `putImageData` and a scaling `drawImage`. The scaling is bilinear with half-pixel centres and
 * clamped edges — what a browser's default (`imageSmoothingQuality = 'low'`) smoothing does;
 * node-canvas (cairo) would filter large reductions differently, so patch values, and with them
 * a few boxes, can differ slightly from face-api in a browser. Its cost is counted in
 * face-api's time, as a real canvas' would be.
 *
 * face-api runs on the tfjs-core 1.7 it bundles (`faceapi.tf`), whose only working backend in
 * Node is its built-in `cpu`.
 */
import { readFile } from 'node:fs';
import * as faceapi from 'face-api.js';
import type { FaceApiFace, FaceApiResult, FaceApiSettings } from './faceapi-client.js';

/** `ImageData` stand-in: RGBA bytes. */
class MemImageData {
  readonly data: Uint8ClampedArray;
  constructor(
    readonly width: number,
    readonly height: number,
    data?: Uint8ClampedArray,
  ) {
    this.data = data ?? new Uint8ClampedArray(width * height * 4);
  }
}

/** `Image` stand-in (face-api's environment wants the class; the benchmark never creates one). */
class MemImage {
  complete = true;
  naturalWidth = 0;
  naturalHeight = 0;
}

/** The 2-D context: reads and writes the owning canvas' RGBA buffer. */
class MemContext2d {
  constructor(readonly canvas: MemCanvas) {}

  /** Pixels outside the canvas come back transparent black, as in a browser. */
  getImageData(sx: number, sy: number, sw: number, sh: number): MemImageData {
    const out = new MemImageData(sw, sh);
    const { width: cw, height: ch, pixels } = this.canvas;
    for (let y = 0; y < sh; y++) {
      const yy = sy + y;
      if (yy < 0 || yy >= ch) continue;
      const x0 = Math.max(0, -sx);
      const x1 = Math.min(sw, cw - sx);
      if (x1 <= x0) continue;
      out.data.set(pixels.subarray((yy * cw + sx + x0) * 4, (yy * cw + sx + x1) * 4), (y * sw + x0) * 4);
    }
    return out;
  }

  putImageData(img: MemImageData, dx: number, dy: number): void {
    const { width: cw, height: ch, pixels } = this.canvas;
    for (let y = 0; y < img.height; y++) {
      const yy = dy + y;
      if (yy < 0 || yy >= ch) continue;
      const x0 = Math.max(0, -dx);
      const x1 = Math.min(img.width, cw - dx);
      if (x1 <= x0) continue;
      pixels.set(img.data.subarray((y * img.width + x0) * 4, (y * img.width + x1) * 4), (yy * cw + dx + x0) * 4);
    }
  }

  /** `drawImage(src, dx, dy, dw, dh)` from another canvas, bilinear (half-pixel centres, clamped edges). */
  drawImage(src: MemCanvas, dx: number, dy: number, dw?: number, dh?: number): void {
    const w = dw ?? src.width;
    const h = dh ?? src.height;
    const { width: cw, height: ch, pixels } = this.canvas;
    const S = src.pixels;
    const sw = src.width;
    const sh = src.height;
    const fx = sw / w;
    const fy = sh / h;
    for (let y = 0; y < h; y++) {
      const ty = dy + y;
      if (ty < 0 || ty >= ch) continue;
      const syf = Math.min(Math.max((y + 0.5) * fy - 0.5, 0), sh - 1);
      const y0 = Math.floor(syf);
      const y1 = Math.min(y0 + 1, sh - 1);
      const wy = syf - y0;
      for (let x = 0; x < w; x++) {
        const tx = dx + x;
        if (tx < 0 || tx >= cw) continue;
        const sxf = Math.min(Math.max((x + 0.5) * fx - 0.5, 0), sw - 1);
        const x0 = Math.floor(sxf);
        const x1 = Math.min(x0 + 1, sw - 1);
        const wx = sxf - x0;
        const a = (y0 * sw + x0) * 4;
        const b = (y0 * sw + x1) * 4;
        const c = (y1 * sw + x0) * 4;
        const d = (y1 * sw + x1) * 4;
        const o = (ty * cw + tx) * 4;
        for (let k = 0; k < 4; k++) {
          const top = S[a + k] + (S[b + k] - S[a + k]) * wx;
          const bottom = S[c + k] + (S[d + k] - S[c + k]) * wx;
          pixels[o + k] = top + (bottom - top) * wy; // Uint8ClampedArray rounds half to even
        }
      }
    }
  }
}

/** `HTMLCanvasElement` stand-in; resizing clears it, as in a browser. */
export class MemCanvas {
  private w = 0;
  private h = 0;
  pixels = new Uint8ClampedArray(0);
  get width(): number {
    return this.w;
  }
  set width(v: number) {
    this.w = v;
    this.pixels = new Uint8ClampedArray(this.w * this.h * 4);
  }
  get height(): number {
    return this.h;
  }
  set height(v: number) {
    this.h = v;
    this.pixels = new Uint8ClampedArray(this.w * this.h * 4);
  }
  getContext(kind: string): MemContext2d | null {
    return kind === '2d' ? new MemContext2d(this) : null;
  }

  /** A canvas holding an RGB image (alpha 255). */
  static fromRgb(rgb: Uint8Array, width: number, height: number): MemCanvas {
    const c = new MemCanvas();
    c.width = width;
    c.height = height;
    for (let i = 0, j = 0; i < width * height; i++, j += 3) {
      c.pixels[i * 4] = rgb[j];
      c.pixels[i * 4 + 1] = rgb[j + 1];
      c.pixels[i * 4 + 2] = rgb[j + 2];
      c.pixels[i * 4 + 3] = 255;
    }
    return c;
  }
}

/** A loaded face-api MTCNN. */
export interface FaceApiMtcnn {
  /** Backend of face-api's bundled tfjs (e.g. `cpu`). */
  backend: string;
  /** Version of face-api's bundled tfjs-core. */
  tfVersion: string;
  detect(canvas: MemCanvas): Promise<Pick<FaceApiResult, 'faces' | 'stats'>>;
  numTensors(): number;
  dispose(): void;
}

/** Install the in-memory canvas, load face-api's MTCNN weights from `dir`. */
export async function loadFaceApiMtcnn(dir: string, settings: FaceApiSettings): Promise<FaceApiMtcnn> {
  faceapi.env.monkeyPatch({
    Canvas: MemCanvas as unknown as typeof HTMLCanvasElement,
    Image: MemImage as unknown as typeof HTMLImageElement,
    ImageData: MemImageData as unknown as typeof ImageData,
    readFile: (path: string) =>
      new Promise<Buffer>((res, rej) => readFile(path, (err, buf) => (err ? rej(err) : res(buf)))),
  });
  // face-api prints "mtcnn is deprecated" on load; keep the benchmark output clean.
  const warn = console.warn;
  console.warn = () => {};
  try {
    await faceapi.nets.mtcnn.loadFromDisk(dir);
  } finally {
    console.warn = warn;
  }
  const tf = faceapi.tf as unknown as {
    getBackend(): string;
    ready(): Promise<void>;
    memory(): { numTensors: number };
    version_core: string;
  };
  await tf.ready();
  const options = new faceapi.MtcnnOptions({
    minFaceSize: settings.minFaceSize,
    scaleFactor: settings.scaleFactor,
    scoreThresholds: settings.thresholds,
    // face-api caps the pyramid at 10 levels by default; ours has no cap.
    maxNumScales: 100,
  });
  return {
    backend: tf.getBackend(),
    tfVersion: tf.version_core,
    numTensors: () => tf.memory().numTensors,
    async detect(canvas) {
      const out = await faceapi.nets.mtcnn.forwardWithStats(canvas as unknown as HTMLCanvasElement, options);
      const s = out.stats as Record<string, number | undefined>;
      const faces = out.results.map((r): FaceApiFace => {
        const b = r.detection.box;
        return { box: [b.left, b.top, b.right, b.bottom], score: r.detection.score };
      });
      return {
        faces,
        stats: {
          stage1: s.total_stage1 ?? 0,
          stage2: s.total_stage2 ?? 0,
          stage3: s.total_stage3 ?? 0,
          rnetInputs: s.stage2_numInputBoxes ?? 0,
          onetInputs: s.stage3_numInputBoxes ?? 0,
        },
      };
    },
    dispose() {
      faceapi.nets.mtcnn.dispose();
    },
  };
}
