/**
 * The scenes of the examples' test and benchmark videos, from the shared sample portraits
 * (`people/<name>/<name><n>.png`), and enrolment pictures that show a portrait exactly as a
 * scene does.
 */
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { composeFrame, type Slot } from './sample-video.js';

/**
 * `frame` (RGB24) as a viewer of the sample videos sees it: through the same 4:2:0 chroma
 * subsampling (`-pix_fmt yuv420p`) that every video of {@link writeSampleVideo} uses, and
 * back to RGB24 — so that an enrolment picture carries the camera's exact pixels.
 */
export function throughVideoCodec(frame: Uint8Array, width: number, height: number): Uint8Array {
  const size = ['-video_size', `${width}x${height}`];
  const encoded = spawnSync('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', ...size, '-i', 'pipe:0',
    '-f', 'yuv4mpegpipe', '-pix_fmt', 'yuv420p', 'pipe:1'], { input: frame, maxBuffer: 64 << 20 });
  if (encoded.status !== 0) throw new Error(`ffmpeg (encode) failed: ${encoded.stderr.toString()}`);
  const decoded = spawnSync('ffmpeg', ['-v', 'error', '-f', 'yuv4mpegpipe', '-i', 'pipe:0',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { input: encoded.stdout, maxBuffer: 64 << 20 });
  if (decoded.status !== 0) throw new Error(`ffmpeg (decode) failed: ${decoded.stderr.toString()}`);
  return new Uint8Array(decoded.stdout.buffer, decoded.stdout.byteOffset, decoded.stdout.byteLength);
}

/** A portrait of the shared samples: who, and which of their pictures. */
export interface Portrait {
  name: string;
  index: number;
}

/** The file of a portrait under the shared `people/` folder. */
export function portraitFile(peopleDir: string, p: Portrait): string {
  return join(peopleDir, p.name, `${p.name}${p.index}.png`);
}

/**
 * For each portrait, a picture of the frame size showing only that portrait, in the slot
 * it takes in a scene — the same pixels the camera will show. Written as
 * `<dir>/<name>/<name><index>-slot<k>.png` (a folder per person, ready to enroll).
 * @returns the files, in scene order.
 */
export async function writeEnrolmentPictures(
  dir: string,
  peopleDir: string,
  scene: readonly Portrait[],
  slots: readonly Slot[],
  width: number,
  height: number,
): Promise<string[]> {
  const files: string[] = [];
  for (const [k, p] of scene.entries()) {
    const frame = throughVideoCodec(await composeFrame([portraitFile(peopleDir, p)], [slots[k]], width, height), width, height);
    const file = join(dir, p.name, `${p.name}${p.index}-slot${k}.png`);
    await mkdir(join(dir, p.name), { recursive: true });
    await sharp(frame, { raw: { width, height, channels: 3 } }).png().toFile(file);
    files.push(file);
  }
  return files;
}

/** Which slot a box falls in: the slot containing the box centre, or -1. */
export function slotOf(box: readonly number[], slots: readonly Slot[]): number {
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  return slots.findIndex(([x, y, side]) => cx >= x && cx < x + side && cy >= y && cy < y + side);
}
