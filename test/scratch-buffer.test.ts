/** FloatScratch: the reused network-input buffer (src/util/scratch.ts). */
import { describe, expect, it } from 'vitest';
import { FloatScratch } from '../src/util/scratch.js';

describe('FloatScratch', () => {
  it('hands out zero-filled views of one growing buffer', () => {
    const s = new FloatScratch(1000);
    const a = s.take(10);
    expect(a).toHaveLength(10);
    a.fill(7);
    const b = s.take(6);
    expect(b.buffer).toBe(a.buffer); // reused, not reallocated
    expect(Array.from(b)).toEqual([0, 0, 0, 0, 0, 0]);
    const c = s.take(25); // grows (at least doubling) and stays zeroed
    expect(c).toHaveLength(25);
    expect(c.every((v) => v === 0)).toBe(true);
    expect(s.take(12).buffer).toBe(c.buffer);
  });

  it('does not keep buffers past its limit', () => {
    const s = new FloatScratch(100);
    const kept = s.take(50).buffer;
    const big = s.take(101);
    expect(big).toHaveLength(101);
    expect(big.buffer).not.toBe(kept);
    expect(s.take(50).buffer).toBe(kept); // the kept buffer is still the one handed out
    expect(s.take(100).byteLength).toBe(400); // grows up to the limit, no further
  });
});
