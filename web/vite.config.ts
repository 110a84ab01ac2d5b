// The web UI, built into dist/web and served by `callvault serve` from the same origin as the API.
// `npm run web:dev` serves it with hot reload, passing /api to a running `callvault serve`.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    // the server's CSP allows scripts from 'self' only: no inline module preload polyfill
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: { '/api': { target: process.env.CALLVAULT_URL ?? 'https://127.0.0.1:8443', secure: false } },
  },
});
