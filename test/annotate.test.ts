import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, sharedPath } from './helpers.js';
import { annotateImage, annotationSvg } from '../src/face/annotate.js';
import { decodeImageBytes } from '../src/image/decode-node.js';
import { ShapeError } from '../src/errors.js';

beforeAll(async () => {
  await setupBackend();
});

describe('annotationSvg', () => {
  it('draws a rectangle per box, a dot per landmark and an escaped label', () => {
    const svg = annotationSvg(
      200,
      100,
      [{ box: [10, 30, 60, 90], score: 0.98765, label: 'Tom & <Jerry>', landmarks: [[20, 40], [50, 40], [35, 55], [25, 70], [45, 70]] }],
      { lineWidth: 3, fontSize: 12 },
    );
    expect(svg).toMatch(/^<svg [^>]*width="200" height="100"/);
    expect(svg).toContain('<rect x="10" y="30" width="50" height="60" fill="none" stroke="#00e000" stroke-width="3"/>');
    expect(svg.match(/<circle /g)?.length).toBe(5);
    expect(svg).toContain('>Tom &amp; &lt;Jerry&gt; 0.988</text>');
    // the label band sits above the box: y = 30 − round(12·1.3) = 14
    expect(svg).toMatch(/<rect x="10" y="14" width="\d+" height="16" fill="#000000"/);
    expect(() => annotationSvg(0, 10, [])).toThrow(ShapeError);
    expect(() => annotationSvg(10, 10, [{ box: [0, 0, NaN, 1] }])).toThrow(ShapeError);
  });
});

describe('annotateImage', () => {
  it('paints the box outline in its colour and leaves the rest of the image alone', async () => {
    // A mid-grey 64×48 image; a red 2-px box from (10, 8) to (40, 30), no label.
    const grey = tf.fill([48, 64, 3], 128) as tf.Tensor3D;
    const png = await annotateImage(grey, [{ box: [10, 8, 40, 30], color: '#ff0000' }], { lineWidth: 2 });
    grey.dispose();
    const img = await decodeImageBytes(png, 'annotated');
    expect([img.width, img.height]).toEqual([64, 48]);
    const px = (x: number, y: number) => Array.from(img.data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3));
    // The stroke is centred on the edge x = 10 (covers 9…11): pixel column 10 is pure red.
    expect(px(10, 20)).toEqual([255, 0, 0]);
    expect(px(25, 8)).toEqual([255, 0, 0]);
    // Inside and outside the box: untouched.
    expect(px(25, 20)).toEqual([128, 128, 128]);
    expect(px(55, 40)).toEqual([128, 128, 128]);
  });

  it('annotates a file from its path (JPEG output)', async () => {
    const bytes = await annotateImage(
      sharedPath('data', 'samples', 'Anthony_Hopkins_0001.jpg'),
      [{ box: [74, 61, 173, 193], score: 0.9999, label: 'Anthony Hopkins' }],
      { format: 'jpeg' },
    );
    expect(Array.from(bytes.subarray(0, 3))).toEqual([0xff, 0xd8, 0xff]);
    const img = await decodeImageBytes(bytes, 'annotated');
    expect([img.width, img.height]).toEqual([250, 250]);
  });
});
