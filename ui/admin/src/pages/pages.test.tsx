import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../App';
import type { ExceptionRecord, Rejection } from '../generated/api';
import { device, fakeServer, session } from '../test/fakeServer';

beforeEach(() => {
  localStorage.clear();
  localStorage.setItem('lapak.admin.locale', 'en');
});

afterEach(() => localStorage.clear());

function open(path: string) {
  window.history.replaceState(null, '', path);
  render(<App />);
}

describe('devices', () => {
  it('revokes a device after asking, with the anti-forgery token', async () => {
    let revoked = false;
    const server = fakeServer({
      'GET /v1/web/session': () => ({ status: 200, body: session() }),
      'GET /v1/admin/devices': () => ({
        status: 200,
        body: { rows: [device({ revoked_at: revoked ? Date.now() : null, behind: 12_000 })], total: 1 },
      }),
      'POST /v1/admin/devices/019ad0c4-5f0e-7c3a-9a57-41d9d3c2e8b1/revoke': () => {
        revoked = true;
        return { status: 204 };
      },
    });
    const user = userEvent.setup();
    open('/admin/devices');
    const line = await screen.findByTestId('device-019ad0c4-5f0e-7c3a-9a57-41d9d3c2e8b1');
    expect(within(line).getByTestId('device-behind').textContent).toBe('10.000+');
    expect(within(line).getByTestId('device-status').textContent).toBe('Online');
    expect(screen.getByTestId('pager-range').textContent).toBe('1–1 of 1');
    await user.click(within(line).getByTestId('device-revoke'));
    await user.click(await screen.findByTestId('revoke-confirm'));
    await waitFor(() => expect(within(screen.getByTestId('devices-table')).getByTestId('device-status').textContent).toBe('Revoked'));
    const post = server.requests.find((r) => r.method === 'POST');
    expect(post?.csrf).toBe('lpc_test');
  });

  it('offers no revoke to a supervisor', async () => {
    fakeServer({
      'GET /v1/web/session': () => ({ status: 200, body: session({ role: 'supervisor' }) }),
      'GET /v1/admin/devices': () => ({ status: 200, body: { rows: [device()], total: 1 } }),
    });
    open('/admin/devices');
    await screen.findByTestId('device-019ad0c4-5f0e-7c3a-9a57-41d9d3c2e8b1');
    expect(screen.queryByTestId('device-revoke')).toBeNull();
  });
});

function rejection(n: number): Rejection {
  return {
    change_id: `c-${String(n).padStart(3, '0')}`,
    received_at: 1_796_088_935_315 - n,
    device_id: 'd',
    device_name: 'POS 1',
    username: 'kasir',
    collection: 'sales_invoices',
    record_id: `INV-${n}`,
    code: 'voucher_spent',
    message: 'voucher already used',
  };
}

describe('rejections', () => {
  it('loads the next page after the last row shown', async () => {
    const server = fakeServer({
      'GET /v1/web/session': () => ({ status: 200, body: session() }),
      'GET /v1/admin/rejections?limit=100': () => ({
        status: 200,
        body: Array.from({ length: 100 }, (_, i) => rejection(i)),
      }),
      'GET /v1/admin/rejections': () => ({ status: 200, body: [rejection(100)] }),
    });
    const user = userEvent.setup();
    open('/admin/rejections');
    await waitFor(() => expect(screen.getAllByTestId('rejection')).toHaveLength(100));
    await user.click(screen.getByTestId('rejections-more'));
    await waitFor(() => expect(screen.getAllByTestId('rejection')).toHaveLength(101));
    expect(server.requests.at(-1)?.path).toBe(
      `/v1/admin/rejections?after=${1_796_088_935_315 - 99}%2Fc-099&limit=100`,
    );
    expect(screen.queryByTestId('rejections-more')).toBeNull();
  });
});

describe('exceptions', () => {
  it('resolves an exception with the note typed, trimmed, only once one is typed', async () => {
    const open_: ExceptionRecord = {
      id: 'x-1',
      kind: 'price_mismatch',
      collection: 'sales_invoices',
      record_id: 'INV-1',
      scopes: ['branch:JKT-01'],
      message: 'sold at 9,000, the list says 10,000',
      details: {},
      position: 5,
      raised_at: 1_796_088_935_315,
      resolved_at: null,
      resolved_by: null,
      resolution: null,
    };
    const state: { resolved: ExceptionRecord | null } = { resolved: null };
    fakeServer({
      'GET /v1/web/session': () => ({ status: 200, body: session() }),
      'GET /v1/admin/exceptions': () => ({ status: 200, body: [state.resolved ?? open_] }),
      'POST /v1/admin/exceptions/x-1/resolve': (body) => {
        const note = (body as { note: string }).note;
        state.resolved = { ...open_, resolved_at: 1, resolved_by: 'admin', resolution: note };
        return { status: 200, body: state.resolved };
      },
    });
    const user = userEvent.setup();
    open('/admin/exceptions');
    await user.click(await screen.findByTestId('exception-resolve'));
    expect(screen.getByTestId('resolve-confirm')).toHaveProperty('disabled', true);
    await user.type(screen.getByTestId('resolve-note'), '  refunded 1,000  ');
    await user.click(screen.getByTestId('resolve-confirm'));
    expect((await screen.findByTestId('exception-resolution')).textContent).toContain('refunded 1,000');
    expect(state.resolved?.resolution).toBe('refunded 1,000');
  });
});

describe('users', () => {
  it('creates a user with grants and shows them in the list', async () => {
    const created: unknown[] = [];
    fakeServer({
      'GET /v1/web/session': () => ({ status: 200, body: session() }),
      'GET /v1/admin/users': () => ({
        status: 200,
        body: [
          { id: '1', username: 'admin', role: 'admin', grants: [], disabled: false },
          ...created.map((c, i) => ({ id: `n${i}`, disabled: false, ...(c as object) })),
        ],
      }),
      'POST /v1/admin/users': (body) => {
        created.push({ ...(body as object), password: undefined });
        return { status: 201, body };
      },
    });
    const user = userEvent.setup();
    open('/admin/users');
    expect(await screen.findByTestId('user-admin')).toBeTruthy();
    expect(screen.getByTestId('user-admin').querySelector('[data-testid="user-toggle"]')).toBeNull();
    await user.click(screen.getByTestId('user-new'));
    await user.type(screen.getByTestId('user-username'), 'sup-bdg');
    await user.type(screen.getByTestId('user-new-password'), 'password-9');
    await user.selectOptions(screen.getByTestId('user-role'), 'supervisor');
    await user.type(screen.getByTestId('grant-scope'), 'branch:BDG-01{Enter}');
    await user.click(screen.getByTestId('user-save'));
    const line = await screen.findByTestId('user-sup-bdg');
    expect(within(line).getByTestId('user-grants').textContent).toBe('branch:BDG-01');
    expect(created[0]).toMatchObject({ username: 'sup-bdg', role: 'supervisor', grants: [{ scope: 'branch:BDG-01', write: true }] });
  });

  it('is not in a supervisor menu', async () => {
    fakeServer({
      'GET /v1/web/session': () => ({ status: 200, body: session({ role: 'supervisor' }) }),
      'GET /v1/admin/today': () => ({ status: 200, body: null }),
    });
    open('/admin/devices');
    await screen.findByTestId('nav-devices');
    expect(screen.queryByTestId('nav-users')).toBeNull();
  });
});

describe('photos', () => {
  it("opens a record's photos from the address, saying which have not arrived", async () => {
    window.history.replaceState(null, '', '/admin/photos?collection=activities&id=ACT-1');
    fakeServer({
      'GET /v1/web/session': () => ({ status: 200, body: session() }),
      'GET /v1/admin/records/activities/ACT-1/photos': () => ({
        status: 200,
        body: {
          collection: 'activities',
          id: 'ACT-1',
          photos: [
            { field: 'photos', ref: 'sha256:aa', taken_at: 1, caption: 'shelf', stored: true, url: '/v1/admin/photos/aa' },
            { field: 'photos', ref: 'sha256:bb', taken_at: null, caption: null, stored: false, url: '/v1/admin/photos/bb' },
          ],
        },
      }),
    });
    render(<App />);
    await waitFor(() => expect(screen.getAllByTestId('photo')).toHaveLength(2));
    expect(screen.getAllByTestId('photo')[0]?.querySelector('img')?.getAttribute('src')).toBe('/v1/admin/photos/aa');
    expect(screen.getByTestId('photo-missing').textContent).toBe('Not uploaded yet');
  });
});
