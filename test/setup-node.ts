// Installs Node's built-ins for the library in every test file (see vitest.config.ts).
import '../src/runtime/install-node.js';
