import { describe, expect, it } from 'vitest';
import { formatMoney, parseQty, parseRupiah } from './money';

describe('formatMoney', () => {
  it('groups thousands with dots and has no decimals', () => {
    expect(formatMoney(0)).toBe('Rp 0');
    expect(formatMoney(500)).toBe('Rp 500');
    expect(formatMoney(5000)).toBe('Rp 5.000');
    expect(formatMoney(50000)).toBe('Rp 50.000');
    expect(formatMoney(1234567)).toBe('Rp 1.234.567');
    expect(formatMoney(1_000_000_000)).toBe('Rp 1.000.000.000');
  });

  it('puts the minus before Rp', () => {
    expect(formatMoney(-5000)).toBe('-Rp 5.000');
    expect(formatMoney(-1)).toBe('-Rp 1');
  });

  it('rounds fractions and never shows a negative zero', () => {
    expect(formatMoney(1999.6)).toBe('Rp 2.000');
    expect(formatMoney(-0.2)).toBe('Rp 0');
  });
});

describe('parseRupiah', () => {
  it('reads digits with or without dots and Rp', () => {
    expect(parseRupiah('50000')).toBe(50000);
    expect(parseRupiah('50.000')).toBe(50000);
    expect(parseRupiah(' Rp 1.250.000 ')).toBe(1250000);
    expect(parseRupiah('rp50000')).toBe(50000);
  });

  it('refuses what is not a whole, non-negative amount', () => {
    expect(parseRupiah('')).toBeNull();
    expect(parseRupiah('-5000')).toBeNull();
    expect(parseRupiah('12,5')).toBeNull();
    expect(parseRupiah('abc')).toBeNull();
  });
});

describe('parseQty', () => {
  it('reads whole quantities only', () => {
    expect(parseQty('3')).toBe(3);
    expect(parseQty(' 0 ')).toBe(0);
    expect(parseQty('1.5')).toBeNull();
    expect(parseQty('-1')).toBeNull();
  });
});
