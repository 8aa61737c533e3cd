import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../App';
import type { Report } from '../generated/api';
import { fakeServer, session } from '../test/fakeServer';

beforeEach(() => {
  localStorage.clear();
  localStorage.setItem('lapak.admin.locale', 'en');
  window.history.replaceState(null, '', '/admin/reports');
});

afterEach(() => localStorage.clear());

const day = Date.UTC(2026, 10, 30, 17);

describe('reports', () => {
  it('charts sales per day over the branches, and links the same period as CSV', async () => {
    const sales: Report = {
      kind: 'sales_by_day',
      from: day,
      to: day + 2 * 86_400_000,
      columns: [
        { key: 'day', kind: 'day' },
        { key: 'branch', kind: 'text' },
        { key: 'invoices', kind: 'count' },
        { key: 'total', kind: 'money' },
      ],
      rows: [
        [day, 'BDG-01', 2, 50_000],
        [day, 'JKT-01', 3, 100_000],
        [day + 86_400_000, 'JKT-01', 1, 20_000],
      ],
    };
    const stock: Report = {
      ...sales,
      kind: 'stock',
      columns: [
        { key: 'branch', kind: 'text' },
        { key: 'items', kind: 'count' },
        { key: 'qty', kind: 'qty' },
        { key: 'below_zero', kind: 'count' },
      ],
      rows: [['JKT-01', 10, -4, 1]],
    };
    const server = fakeServer({
      'GET /v1/web/session': () => ({ status: 200, body: session() }),
      'GET /v1/admin/reports/sales_by_day': () => ({ status: 200, body: sales }),
      'GET /v1/admin/reports/stock': () => ({ status: 200, body: stock }),
    });
    const user = userEvent.setup();
    render(<App />);
    await waitFor(() => expect(screen.getAllByTestId('chart-bar')).toHaveLength(2));
    expect(screen.getAllByTestId('chart-bar')[0]?.textContent).toContain('Rp 150.000');
    expect(screen.getAllByTestId('report-row')).toHaveLength(3);
    const asked = server.requests.find((r) => r.path.startsWith('/v1/admin/reports/sales_by_day'))?.path ?? '';
    const csv = screen.getByTestId('report-csv').getAttribute('href') ?? '';
    expect(csv).toBe(`${asked}&format=csv`);

    await user.click(screen.getByTestId('report-stock'));
    await waitFor(() => expect(screen.getAllByTestId('report-row')).toHaveLength(1));
    expect(screen.getByTestId('chart-bar').textContent).toContain('JKT-01');
  });
});
