/**
 * The training log: one JSON object per line (steps, epochs, warnings, start/stop),
 * appended, so a resumed run continues the same file and any tool can read it line by line.
 */
import * as fsp from 'node:fs/promises';
import * as nodePath from 'node:path';

/** Appends JSON lines to a file; writes are serialized in call order. */
export class JsonLinesLog {
  private chain: Promise<void> = Promise.resolve();
  private ready: Promise<unknown>;

  constructor(readonly path: string) {
    this.ready = fsp.mkdir(nodePath.dirname(path), { recursive: true }).then(() => this.endPartialLine());
  }

  /**
   * A run killed mid-write can leave a last line without its newline; end it, so that the
   * next record starts a line of its own (readers skip the broken line, not the new one).
   */
  private async endPartialLine(): Promise<void> {
    let handle: import('node:fs/promises').FileHandle | undefined;
    try {
      handle = await fsp.open(this.path, 'r');
      const { size } = await handle.stat();
      if (size === 0) return;
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) await fsp.appendFile(this.path, '\n');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    } finally {
      await handle?.close();
    }
  }

  /** Queue one record (a `time` field with the ISO time is added). */
  write(record: Record<string, unknown>): Promise<void> {
    const line = JSON.stringify({ ...record, time: new Date().toISOString() }) + '\n';
    this.chain = this.chain.then(async () => {
      await this.ready;
      await fsp.appendFile(this.path, line);
    });
    return this.chain;
  }

  /**
   * Cut the log back to a resumed checkpoint: drop everything from the first record of a
   * step after `step` on (those steps are trained again), so that no step appears twice.
   * Rewritten atomically; queued like a write.
   */
  truncateAfterStep(step: number): Promise<void> {
    this.chain = this.chain.then(async () => {
      await this.ready;
      let text: string;
      try {
        text = await fsp.readFile(this.path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      const kept = keepLinesUpToStep(text, step);
      if (kept.length === text.length) return;
      const tmp = `${this.path}.${process.pid}.tmp`;
      await fsp.writeFile(tmp, kept);
      await fsp.rename(tmp, this.path);
    });
    return this.chain;
  }

  /** Wait for every queued write. */
  flush(): Promise<void> {
    return this.chain;
  }
}

/**
 * The lines of a JSON-lines log before the first record whose `step` is greater than `step`
 * (unparseable lines — a write cut by a kill — are kept where they are; readers skip them).
 */
export function keepLinesUpToStep(text: string, step: number): string {
  let offset = 0;
  for (const line of text.split('\n')) {
    try {
      const r = JSON.parse(line) as { step?: unknown };
      if (typeof r.step === 'number' && r.step > step) return text.slice(0, offset);
    } catch {
      // not a record
    }
    offset += line.length + 1;
  }
  return text;
}
