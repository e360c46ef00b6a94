/**
 * A folder tree of chips at another size (INTER_AREA, as the embedder resizes): the `rescale`
 * stage of main.ts on its own, for a tree main.ts did not make (e.g. the LFW chips) or a size
 * it was not run with. Resumable: images already written are kept.
 *
 *   node --import tsx examples/distill/rescale.ts FROM TO SIZE
 */
import '../../src/runtime/install-node.js';
import { initBackend } from '../../src/runtime/backend.js';
import { rescaleChips } from './data.js';

const [from, to, sizeArg] = process.argv.slice(2);
const size = Number(sizeArg);
if (!from || !to || !Number.isInteger(size) || size < 8) throw new Error('usage: rescale.ts FROM TO SIZE (an integer ≥ 8)');
await initBackend();
console.log(`rescaled ${await rescaleChips(from, to, size)} chips to ${size} px in ${to}`);
