// The admin web: built into dist/ and embedded in lapak-server, which serves it under /admin.
// `npm run dev` serves it with hot reload and sends /v1 to a server on 127.0.0.1:8080.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  clearScreen: false,
  server: {
    port: 5174,
    strictPort: true,
    proxy: { '/v1': 'http://127.0.0.1:8080' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: ['es2022', 'chrome105', 'firefox110', 'safari15'],
    // Everything from files: the Content-Security-Policy allows no inline script or style.
    assetsInlineLimit: 0,
  },
  test: {
    name: 'admin',
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['./src/test/setup.ts'],
  },
});
