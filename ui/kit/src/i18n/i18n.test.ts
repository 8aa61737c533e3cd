import { describe, expect, it } from 'vitest';
import { en } from './en';
import { id } from './id';
import { dictionaries, translate } from './index';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('dictionaries', () => {
  it('have the same keys in both languages', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(id).sort());
  });

  it('have no empty message', () => {
    for (const dictionary of Object.values(dictionaries)) {
      for (const [key, text] of Object.entries(dictionary)) {
        expect(text.trim(), key).not.toBe('');
      }
    }
  });

  it('use the same placeholders for a key in both languages', () => {
    for (const key of Object.keys(id) as (keyof typeof id)[]) {
      expect(placeholders(en[key]), key).toEqual(placeholders(id[key]));
    }
  });
});

describe('translate', () => {
  it('fills placeholders in the asked language', () => {
    expect(translate('id', 'sync.rejected', { count: 3 })).toBe('3 ditolak');
    expect(translate('en', 'sync.rejected', { count: 3 })).toBe('3 rejected');
  });

  it('leaves an unknown placeholder as it is', () => {
    expect(translate('en', 'sync.rejected')).toBe('{count} rejected');
  });
});
