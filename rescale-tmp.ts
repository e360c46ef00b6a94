import { rescaleChips } from '/work/main/examples/distill/data.ts';
import { initBackend } from '/work/main/src/runtime/backend.ts';
await initBackend({ backend: 'cpu' });
const t0 = Date.now();
const n = await rescaleChips('/work/data/chips/celeba-faces', '/work/data/train96', 96);
console.log(`wrote ${n} in ${(Date.now() - t0) / 1000} s`);
