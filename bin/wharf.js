#!/usr/bin/env node
// The `wharf` CLI, compiled to dist/ by `npm run build` (which `npm ci` runs through `prepare`).
require('../dist/src/cli/main.js').cliMain();
