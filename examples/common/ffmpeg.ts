/**
 * ffmpeg as a frame source and a frame sink: raw RGB24 frames of a known size through
 * pipes. Decoding and encoding run in their own processes, beside the recognition.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';

/** Size of the frames exchanged with ffmpeg. */
export interface FrameSize {
  width: number;
  height: number;
}

/** Options of {@link startDecoder}. */
export interface DecoderOptions extends FrameSize {
  /** A file, URL or device (`/dev/video0`). */
  input: string;
  /** ffmpeg input format (`-f`), e.g. `v4l2`. Default: `v4l2` for `/dev/video*`, else guessed by ffmpeg. */
  inputFormat?: string;
  /** Stop after this many frames. Default: all. */
  maxFrames?: number;
}

/** A running ffmpeg with the stdio the examples use. */
export type FfmpegProcess = ChildProcessByStdio<Writable | null, Readable | null, Readable>;

/** What ffmpeg printed on stderr (the last 4 kB), for error messages. */
function collectStderr(p: FfmpegProcess): () => string {
  let text = '';
  p.stderr.setEncoding('utf8');
  p.stderr.on('data', (d: string) => {
    text = (text + d).slice(-4096);
  });
  return () => text.trim();
}

/** The ffmpeg command line that decodes `opts.input` to raw RGB24 frames of the given size on stdout. */
export function decoderArgs(opts: DecoderOptions): string[] {
  const format = opts.inputFormat ?? (opts.input.startsWith('/dev/video') ? 'v4l2' : undefined);
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    ...(format ? ['-f', format] : []),
    ...(format === 'v4l2' ? ['-video_size', `${opts.width}x${opts.height}`] : []),
    '-i', opts.input,
    ...(opts.maxFrames !== undefined ? ['-frames:v', String(opts.maxFrames)] : []),
    // Every decoded frame, scaled to the size the pipeline expects, none dropped or repeated.
    '-vf', `scale=${opts.width}:${opts.height}`, '-fps_mode', 'passthrough',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
}

/** Start ffmpeg decoding to raw frames. Read them with {@link readFrames}. */
export function startDecoder(opts: DecoderOptions): { process: FfmpegProcess; stderr: () => string } {
  const p = spawn('ffmpeg', decoderArgs(opts), { stdio: ['ignore', 'pipe', 'pipe'] });
  return { process: p, stderr: collectStderr(p) };
}

/**
 * Cut a byte stream into frames of exactly `frameBytes` bytes. A partial frame at the end
 * (a truncated stream) is dropped.
 */
export async function* readFrames(stream: Readable, frameBytes: number): AsyncGenerator<Uint8Array> {
  let pending: Buffer[] = [];
  let have = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    pending.push(chunk);
    have += chunk.length;
    while (have >= frameBytes) {
      const all = pending.length === 1 ? pending[0] : Buffer.concat(pending, have);
      yield new Uint8Array(all.buffer, all.byteOffset, frameBytes).slice();
      const rest = all.subarray(frameBytes);
      pending = rest.length > 0 ? [rest] : [];
      have = rest.length;
    }
  }
}

/** Options of {@link startEncoder}. */
export interface EncoderOptions extends FrameSize {
  /** Output file; its extension picks the container (`.mp4`, `.mkv`, `.avi`, `.y4m`). */
  output: string;
  /** Frames per second written into the file. */
  fps: number;
  /** `libx264` (default), `mpeg4`, or `rawvideo` (for `.y4m`). */
  codec?: 'libx264' | 'mpeg4' | 'rawvideo';
}

/** The ffmpeg command line that encodes raw RGB24 frames from stdin into `opts.output`. */
export function encoderArgs(opts: EncoderOptions): string[] {
  const codec = opts.codec ?? 'libx264';
  const quality = codec === 'libx264' ? ['-preset', 'veryfast', '-crf', '20'] : codec === 'mpeg4' ? ['-q:v', '3'] : [];
  return [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-video_size', `${opts.width}x${opts.height}`, '-framerate', String(opts.fps),
    '-i', 'pipe:0',
    ...(codec === 'rawvideo' ? [] : ['-c:v', codec, ...quality]),
    '-pix_fmt', 'yuv420p',
    opts.output,
  ];
}

/** A running encoder: write frames, then {@link FrameEncoder.finish}. */
export class FrameEncoder {
  private readonly stderr: () => string;
  private failure: Error | null = null;
  private readonly exited: Promise<number | null>;

  constructor(
    readonly opts: EncoderOptions,
    private readonly proc: FfmpegProcess = spawn('ffmpeg', encoderArgs(opts), { stdio: ['pipe', 'ignore', 'pipe'] }),
  ) {
    this.stderr = collectStderr(proc);
    this.exited = new Promise((resolve) => proc.on('close', (code) => resolve(code)));
    // EPIPE when ffmpeg died: remembered and reported by write() / finish().
    proc.stdin!.on('error', (e) => (this.failure ??= e));
    proc.on('error', (e) => (this.failure ??= e));
  }

  /** Queue one RGB24 frame; waits when ffmpeg is behind (back-pressure). */
  async write(frame: Uint8Array): Promise<void> {
    if (this.failure) throw new Error(`ffmpeg encoder failed: ${this.failure.message} ${this.stderr()}`);
    if (!this.proc.stdin!.write(frame)) await once(this.proc.stdin!, 'drain');
  }

  /** Close the input and wait until ffmpeg has written the file. */
  async finish(): Promise<void> {
    this.proc.stdin!.end();
    const code = await this.exited;
    if (code !== 0) throw new Error(`ffmpeg encoder exited with ${code}: ${this.stderr()}`);
  }
}

/** Start ffmpeg encoding raw RGB24 frames into a video file. */
export function startEncoder(opts: EncoderOptions): FrameEncoder {
  return new FrameEncoder(opts);
}

/**
 * The frame rate of a video input (ffprobe's `avg_frame_rate`, else `r_frame_rate`), or
 * `null` when ffprobe cannot tell (a live camera often cannot be probed while in use).
 */
export async function probeFrameRate(input: string, inputFormat?: string): Promise<number | null> {
  const p = spawn('ffprobe', [
    '-v', 'error', ...(inputFormat ? ['-f', inputFormat] : []), '-select_streams', 'v:0',
    '-show_entries', 'stream=avg_frame_rate,r_frame_rate', '-of', 'default=nokey=1:noprint_wrappers=1', input,
  ], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  const [code] = (await once(p, 'close')) as [number];
  if (code !== 0) return null;
  // "30000/1001" or "25/1"; "0/0" when unknown.
  for (const line of out.trim().split('\n')) {
    const [num, den] = line.split('/').map(Number);
    if (num > 0 && den > 0) return num / den;
  }
  return null;
}

/** Number of video frames in a file, counted by decoding it (ffprobe `-count_frames`). */
export async function countVideoFrames(path: string): Promise<number> {
  const p = spawn('ffprobe', [
    '-v', 'error', '-select_streams', 'v:0', '-count_frames',
    '-show_entries', 'stream=nb_read_frames', '-of', 'default=nokey=1:noprint_wrappers=1', path,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  const [code] = (await once(p, 'close')) as [number];
  const n = Number(out.trim());
  if (code !== 0 || !Number.isInteger(n)) throw new Error(`ffprobe could not count the frames of ${path}: ${err.trim() || out.trim()}`);
  return n;
}
