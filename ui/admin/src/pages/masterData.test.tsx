import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../App';
import type { DataCollection, ImportCheck, ImportProgress } from '../generated/api';
import { fakeServer, session } from '../test/fakeServer';

const items: DataCollection = {
  name: 'items',
  derived: false,
  rows: 120,
  fields: [
    { name: 'name', kind: 'text', required: true },
    { name: 'unit', kind: 'text', required: false },
    { name: 'tax_rate_bp', kind: 'int', required: false },
  ],
};

beforeEach(() => {
  localStorage.clear();
  localStorage.setItem('lapak.admin.locale', 'en');
  window.history.replaceState(null, '', '/admin/data');
});

afterEach(() => localStorage.clear());

describe('master data', () => {
  it('pages through rows and saves an edited row with all its fields', async () => {
    const puts: unknown[] = [];
    const server = fakeServer({
      'GET /v1/web/session': () => ({ status: 200, body: session() }),
      'GET /v1/admin/data': () => ({ status: 200, body: [items] }),
      'GET /v1/admin/data/items': () => ({
        status: 200,
        body: {
          rows: Array.from({ length: 50 }, (_, i) => ({
            id: `SKU-${i}`,
            fields: { name: `Item ${i}`, unit: null, tax_rate_bp: 1100 },
          })),
          total: 120,
        },
      }),
      'PUT /v1/admin/reference/items': (body) => {
        puts.push(body);
        return { status: 200, body: { written: 1, head: 9 } };
      },
    });
    const user = userEvent.setup();
    render(<App />);
    expect((await screen.findByTestId('pager-range')).textContent).toBe('1–50 of 120');
    await user.click(screen.getByTestId('pager-next'));
    await waitFor(() => expect(server.requests.at(-1)?.path).toBe('/v1/admin/data/items?offset=50&limit=50'));
    await user.click(await screen.findByTestId('row-SKU-3'));
    const price = screen.getByTestId('field-tax_rate_bp');
    await user.clear(price);
    await user.type(price, '0');
    await user.click(screen.getByTestId('row-save'));
    await waitFor(() => expect(puts).toHaveLength(1));
    expect(puts[0]).toEqual({ rows: [{ id: 'SKU-3', fields: { name: 'Item 3', unit: null, tax_rate_bp: 0 } }] });
  });

  it('lists a bad row with its line and writes nothing until the file is fixed', async () => {
    const bad: ImportCheck = {
      collection: 'items',
      columns: ['id', 'name'],
      rows: 2,
      error_count: 1,
      errors: [{ line: 3, id: 'SKU-2', message: 'column `tax_rate_bp`: `1a` is not a whole number' }],
      preview: [{ id: 'SKU-1', fields: { name: 'Teh', unit: null, tax_rate_bp: null } }],
    };
    let checks = 0;
    const job: ImportProgress = { id: 'j1', collection: 'items', total: 2, written: 0, done: false, error: null, started_at: 1 };
    fakeServer({
      'GET /v1/web/session': () => ({ status: 200, body: session() }),
      'GET /v1/admin/data': () => ({ status: 200, body: [items] }),
      'GET /v1/admin/data/items': () => ({ status: 200, body: { rows: [], total: 0 } }),
      'POST /v1/admin/data/items/import?dry_run=true': () => {
        checks += 1;
        return { status: 200, body: checks === 1 ? bad : { ...bad, error_count: 0, errors: [] } };
      },
      'POST /v1/admin/data/items/import': () => ({ status: 202, body: job }),
      'GET /v1/admin/imports/j1': () => ({ status: 200, body: { ...job, written: 2, done: true } }),
    });
    const user = userEvent.setup();
    render(<App />);
    await user.click(await screen.findByTestId('data-import'));
    const file = (text: string) => new File([text], 'items.csv', { type: 'text/csv' });
    await user.upload(screen.getByTestId('import-file'), file('id,name,tax_rate_bp\nSKU-1,Teh,\nSKU-2,Kopi,1a\n'));
    const errors = await screen.findByTestId('import-errors');
    expect(within(errors).getByTestId('import-error').textContent).toContain('3');
    expect(screen.getByTestId('import-start')).toHaveProperty('disabled', true);
    await user.upload(screen.getByTestId('import-file'), file('id,name,tax_rate_bp\nSKU-1,Teh,\nSKU-2,Kopi,1\n'));
    await waitFor(() => expect(screen.getByTestId('import-start')).toHaveProperty('disabled', false));
    await user.click(screen.getByTestId('import-start'));
    expect((await screen.findByTestId('import-progress-text', {}, { timeout: 3000 })).textContent).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId('import-progress-text').textContent).toBe('Done: 2 rows written.'));
  });
});
