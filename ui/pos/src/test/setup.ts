import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import { setTransport } from '../ipc';

afterEach(() => {
  cleanup();
  setTransport(null);
});
