#!/usr/bin/env node
// Expected outputs for the dlib ResNet parity test, computed by face-api itself
// (@vladmandic/face-api's FaceRecognitionNet on the cpu backend): for every 150×150 PNG in
// test/fixtures/dlib-chips/ and for one seeded noise image, its 128-d descriptor.
// Writes test/fixtures/dlib-reference.json. Run: node scripts/make-dlib-fixture.cjs
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const sharp = require('sharp');
const tf = require('@tensorflow/tfjs');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');

const root = path.resolve(__dirname, '..');
const chipDir = path.join(root, 'test/fixtures/dlib-chips');
const modelDir = path.join(root, 'node_modules/@vladmandic/face-api/model');

/** Deterministic noise (xorshift32) so that the fixture holds no image for it. */
function noiseImage(seed) {
  const px = new Int32Array(150 * 150 * 3);
  let s = seed >>> 0;
  for (let i = 0; i < px.length; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    px[i] = s % 256;
  }
  return px;
}

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  const cases = [];
  for (const file of fs.readdirSync(chipDir).filter((f) => f.endsWith('.png')).sort()) {
    const { data, info } = await sharp(path.join(chipDir, file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.width !== 150 || info.height !== 150) throw new Error(`${file}: not 150×150`);
    cases.push({ name: file, pixels: Int32Array.from(data) });
  }
  cases.push({ name: 'noise:12345', pixels: noiseImage(12345) });
  const out = { generator: 'scripts/make-dlib-fixture.cjs', faceApi: require('@vladmandic/face-api/package.json').version, backend: tf.getBackend(), cases: [] };
  for (const c of cases) {
    const input = tf.tensor3d(c.pixels, [150, 150, 3], 'int32');
    const descriptor = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(input);
    input.dispose();
    out.cases.push({ name: c.name, descriptor: Array.from(descriptor, (v) => Number(v.toPrecision(9))) });
  }
  fs.writeFileSync(path.join(root, 'test/fixtures/dlib-reference.json'), JSON.stringify(out, null, 1) + '\n');
  console.log(`wrote ${out.cases.length} descriptors (face-api ${out.faceApi}, ${out.backend})`);
}
main().catch((e) => { console.error(e); process.exit(1); });
