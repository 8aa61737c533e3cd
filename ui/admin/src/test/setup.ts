import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import { onSignedOut, setFetch } from '../api';

afterEach(() => {
  cleanup();
  setFetch(null);
  onSignedOut(null);
});
