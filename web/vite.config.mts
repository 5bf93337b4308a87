import { defineConfig } from 'vite';

// The console is built into dist/web, which the registry serves at / (src/console/). Assets get
// content-hashed names, so the registry can cache them forever; no inline script or style is
// emitted (the registry's CSP allows none).
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  publicDir: 'public',
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill would be an inline script; every browser the console supports has modulepreload.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
