// The POS page: bundled whole into dist/ (loaded by Tauri from disk, no network at run time);
// `npm run dev` serves it on the port Tauri's devUrl names.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  base: './',
  plugins: [react()],
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // WebKitGTK (Linux), WKWebView (macOS) and WebView2 (Windows) all run this.
    target: ['es2022', 'safari15', 'chrome105'],
    assetsInlineLimit: 0,
  },
  test: {
    name: 'pos',
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['./src/test/setup.ts'],
  },
});
