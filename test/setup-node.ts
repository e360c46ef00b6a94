// Installs Node's built-ins for the library in every test file (see vitest.config.ts).
import '../src/runtime/install-node.js';
import { resolve } from 'node:path';

// The tests' real data (weights, faces): named explicitly, so that the library's weights
// resolver and every CLI run started by a test find it. The library itself never looks in
// ../shared unless told to (TFJS_FACENET_SHARED).
process.env.TFJS_FACENET_SHARED = resolve(process.env.TFJS_FACENET_SHARED ?? '../shared');
