/**
 * How far our MTCNN is from davidsandberg/facenet's `detect_face.py`: the largest differences
 * over the 34 faces of test/fixtures/mtcnn-reference.json (box, landmark, score), with the
 * Caffe weights, as the parity test compares them (the test only asserts bounds).
 *
 *   node --import tsx bench/mtcnn-parity.ts
 */
import { readFileSync } from 'node:fs';
import '../src/runtime/install-node.js';
import { initBackend } from '../src/runtime/backend.js';
import { loadMtcnn } from '../src/mtcnn/detector.js';
import { sharedPath } from '../src/util/shared-data.js';

interface RefFace {
  box: number[];
  score: number;
  landmarks: number[][];
}
const reference = JSON.parse(readFileSync(new URL('../test/fixtures/mtcnn-reference.json', import.meta.url), 'utf8')) as {
  images: { file: string; faces: RefFace[] }[];
};

const info = await initBackend();
const mtcnn = await loadMtcnn({ weights: 'caffe', weightsDir: sharedPath('weights', 'mtcnn-caffe') });
let faces = 0;
let box = 0;
let landmarks = 0;
let score = 0;
for (const img of reference.images) {
  const found = await mtcnn.detect(sharedPath(img.file));
  if (found.length !== img.faces.length) throw new Error(`${img.file}: ${found.length} faces, the reference has ${img.faces.length}`);
  found.forEach((f, i) => {
    const r = img.faces[i];
    faces++;
    box = Math.max(box, ...f.box.map((v, k) => Math.abs(v - r.box[k])));
    score = Math.max(score, Math.abs(f.score - r.score));
    landmarks = Math.max(landmarks, ...f.landmarks.flatMap((p, k) => [Math.abs(p[0] - r.landmarks[k][0]), Math.abs(p[1] - r.landmarks[k][1])]));
  });
}
mtcnn.dispose();
console.log(`backend ${info.name}: ${faces} faces in ${reference.images.length} images, the same order as detect_face.py`);
console.log(`largest differences: box ${box.toExponential(2)} px, landmark ${landmarks.toExponential(2)} px, score ${score.toExponential(2)}`);
