/**
 * A synthetic "camera" video for the examples' tests and benchmarks: portraits pasted side
 * by side on a plain background, one scene after another, encoded with ffmpeg.
 */
import sharp from 'sharp';
import { startEncoder, type EncoderOptions } from './ffmpeg.js';

/** Where a portrait sits in a frame: `[x, y, side]` of its square. */
export type Slot = readonly [x: number, y: number, side: number];

/** Options of {@link writeSampleVideo}. */
export interface SampleVideoOptions {
  /** Output file: `.y4m` (raw, what Chromium's fake camera reads), `.mp4`, `.mkv`, `.avi`. */
  output: string;
  /** Each scene: the portrait files shown, left to right (at most {@link slotsFor}'s count). */
  scenes: readonly (readonly string[])[];
  /** Frames each scene lasts. Default 10. */
  framesPerScene?: number;
  /** Default 640. */
  width?: number;
  /** Default 480. */
  height?: number;
  /** Default 10. */
  fps?: number;
  /** Default: rawvideo for `.y4m`, else libx264. */
  codec?: EncoderOptions['codec'];
}

/** The squares of `count` portraits in a row, centred in the frame, with gaps between them. */
export function slotsFor(count: number, width: number, height: number): Slot[] {
  const side = Math.floor(Math.min(width / (count + (count + 1) * 0.15), height * 0.6));
  const gap = Math.floor((width - count * side) / (count + 1));
  const y = Math.floor((height - side) / 2);
  return Array.from({ length: count }, (_, i) => [gap + i * (side + gap), y, side] as const);
}

/** One frame: the portraits scaled into their slots over a grey background, RGB24. */
export async function composeFrame(portraits: readonly string[], slots: readonly Slot[], width: number, height: number): Promise<Uint8Array> {
  const layers = await Promise.all(
    portraits.map(async (file, i) => {
      const [left, top, side] = slots[i];
      return { input: await sharp(file).resize(side, side).removeAlpha().toBuffer(), left, top };
    }),
  );
  const data = await sharp({ create: { width, height, channels: 3, background: { r: 96, g: 100, b: 110 } } })
    .composite(layers)
    .removeAlpha()
    .raw()
    .toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Write the video. Returns the slots used (the same for every scene, sized for the
 * scene with the most portraits) and the number of frames.
 */
export async function writeSampleVideo(opts: SampleVideoOptions): Promise<{ slots: Slot[]; frames: number }> {
  const { width = 640, height = 480, fps = 10, framesPerScene = 10 } = opts;
  const slots = slotsFor(Math.max(...opts.scenes.map((s) => s.length)), width, height);
  const codec = opts.codec ?? (opts.output.endsWith('.y4m') ? 'rawvideo' : 'libx264');
  const encoder = startEncoder({ output: opts.output, width, height, fps, codec });
  let frames = 0;
  for (const scene of opts.scenes) {
    const frame = await composeFrame(scene, slots, width, height);
    for (let i = 0; i < framesPerScene; i++, frames++) await encoder.write(frame);
  }
  await encoder.finish();
  return { slots, frames };
}
