// One `vitest run` for every package of the workspace; each package says how its tests run.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['kit', 'pos', 'admin'],
  },
});
