// The cluster suite: tests against a real control plane (test/cluster/README.md), run by
// `npm run test:cluster` through cluster.sh, never by `npm test` (which needs no Go and no root).
const base = require('../../jest.config.js');

// @kubernetes/client-node is an ES module: import() is left to jest's ESM support
// (--experimental-vm-modules) instead of being turned into require().
const [pattern, [swcJest, swc]] = Object.entries(base.transform)[0];
const transform = { [pattern]: [swcJest, { ...swc, module: { ...swc.module, ignoreDynamic: true } }] };

module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/cluster'],
  testMatch: ['**/*.test.ts'],
  transform,
  setupFiles: base.setupFiles,
  globalSetup: '<rootDir>/test/cluster/global-setup.ts',
  globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
  testTimeout: 120_000,
  // One cluster for the whole run; test files share it through their own namespaces and nodes.
  maxWorkers: 2,
  reporters: base.reporters,
};
