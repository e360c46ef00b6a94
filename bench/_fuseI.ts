// scratch: fused conv+bias+prelu vs separate ops, ours' networks on wasm
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/runtime/backend.js';
import { loadMtcnnParams } from '../src/mtcnn/weights.js';
import { pnetForward, rnetForward, onetForward } from '../src/mtcnn/networks.js';
const be = (process.argv[2] ?? 'wasm') as 'wasm' | 'cpu';
await initBackend({ backend: be });
const p = await loadMtcnnParams('faceapi');
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
function fusedPnet(x: tf.Tensor4D) {
  return tf.tidy(() => {
    const c = (h: tf.Tensor4D, q: any, a: any) => tf.fused.conv2d({ x: h, filter: q.filter, strides: 1, pad: 'valid', bias: q.bias, activation: 'prelu', preluActivationWeights: a });
    let h = c(x, p.pnet.conv1, p.pnet.prelu1);
    h = tf.maxPool(h, [2, 2], [2, 2], 'same');
    h = c(h, p.pnet.conv2, p.pnet.prelu2);
    h = c(h, p.pnet.conv3, p.pnet.prelu3);
    const logits = tf.fused.conv2d({ x: h, filter: p.pnet.conv4_1.filter, strides: 1, pad: 'valid', bias: p.pnet.conv4_1.bias });
    const prob = tf.slice(tf.softmax(logits), [0, 0, 0, 1], [-1, -1, -1, 1]);
    const reg = tf.fused.conv2d({ x: h, filter: p.pnet.conv4_2.filter, strides: 1, pad: 'valid', bias: p.pnet.conv4_2.bias });
    return tf.concat([prob, reg], 3);
  });
}
const levels = [[384, 288], [273, 205], [194, 145], [137, 103], [98, 73], [69, 52], [49, 37], [35, 26], [25, 19], [18, 14]];
const xs = levels.map(([w, h]) => tf.randomUniform([1, w, h, 3], -1, 1) as tf.Tensor4D);
async function runSep() { for (const x of xs) { const o = tf.tidy(() => { const r = pnetForward(p.pnet, x); return tf.concat([r.prob, r.reg], 3); }); await o.data(); o.dispose(); } }
async function runFused() { for (const x of xs) { const o = fusedPnet(x); await o.data(); o.dispose(); } }
// check equality
{ const a = tf.tidy(() => { const r = pnetForward(p.pnet, xs[0]); return tf.concat([r.prob, r.reg], 3); }); const b = fusedPnet(xs[0]); console.log('max diff', tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]); a.dispose(); b.dispose(); }
for (const [name, fn] of [['separate', runSep], ['fused', runFused], ['separate', runSep], ['fused', runFused]] as const) {
  await fn();
  const c0 = cpuNow(); const t0 = performance.now();
  for (let i = 0; i < 5; i++) await fn();
  console.log(be, 'P-Net pyramid (10 levels, 640x480)', name, 'cpu ms', ((cpuNow() - c0) / 5).toFixed(1), 'wall', ((performance.now() - t0) / 5).toFixed(1));
}
// R-Net / O-Net per crop at realistic batch sizes
for (const [net, size, n] of [['rnet', 24, 621], ['onet', 48, 53]] as const) {
  const x = tf.randomUniform([n, size, size, 3], -1, 1) as tf.Tensor4D;
  for (let k = 0; k < 3; k++) {
    const c0 = cpuNow();
    const o = tf.tidy(() => { const r = net === 'rnet' ? rnetForward(p.rnet, x) : onetForward(p.onet, x); return tf.concat([tf.reshape(r.prob, [n, 1]), r.reg], 1); });
    await o.data(); o.dispose();
    if (k) console.log(be, net, n, 'crops', 'cpu ms', (cpuNow() - c0).toFixed(1), 'per crop', ((cpuNow() - c0) / n).toFixed(3));
  }
  x.dispose();
}
