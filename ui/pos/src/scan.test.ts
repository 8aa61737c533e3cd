import { describe, expect, it } from 'vitest';
import { looksLikeCode } from './scan';

describe('looksLikeCode', () => {
  it('takes barcodes and SKU-like tokens as codes', () => {
    expect(looksLikeCode('8991234567890')).toBe(true);
    expect(looksLikeCode(' 123 ')).toBe(true);
    expect(looksLikeCode('SKU-000001')).toBe(true);
    expect(looksLikeCode('AB12')).toBe(true);
  });

  it('takes words as a search', () => {
    expect(looksLikeCode('indomie')).toBe(false);
    expect(looksLikeCode('indomie goreng')).toBe(false);
    expect(looksLikeCode('aqua 600')).toBe(false);
    expect(looksLikeCode('')).toBe(false);
  });
});
