/** stackedBarSvg: segment widths proportional to the values, totals printed, bad input refused. */
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '../src/errors.js';
import { stackedBarSvg } from '../src/eval/bar-plot.js';

describe('stackedBarSvg', () => {
  it('draws each value as a segment of proportional width, and each total', () => {
    const svg = stackedBarSvg(
      [
        { label: 'before', values: [30, 10] },
        { label: 'after <fast>', values: [15, 0] },
      ],
      { parts: ['a', 'b'], width: 760 },
    );
    const widths = [...svg.matchAll(/<rect x="[\d.]+" y="\d+" width="([\d.]+)" height="26"/g)].map((m) => Number(m[1]));
    // Three non-zero segments (a zero value draws nothing): 30, 10 and 15 on one scale.
    expect(widths.length).toBe(3);
    expect(widths[0] / widths[1]).toBeCloseTo(3, 1);
    expect(widths[0] / widths[2]).toBeCloseTo(2, 1);
    expect(svg).toContain('>40.0</text>');
    expect(svg).toContain('>15.0</text>');
    expect(svg).toContain('after &lt;fast&gt;');
  });

  it('refuses empty input and values that do not match the parts', () => {
    expect(() => stackedBarSvg([], { parts: ['a'] })).toThrow(ConfigError);
    expect(() => stackedBarSvg([{ label: 'x', values: [1] }], { parts: [] })).toThrow(ConfigError);
    expect(() => stackedBarSvg([{ label: 'x', values: [1, 2] }], { parts: ['a'] })).toThrow(ShapeError);
    expect(() => stackedBarSvg([{ label: 'x', values: [-1] }], { parts: ['a'] })).toThrow(ShapeError);
  });
});
