/**
 * A fake lapak-server for component tests: answers the admin API's paths from handlers, keeps
 * what the page sent, and insists on what the real one does (the anti-forgery header on
 * requests that change state).
 */
import { setFetch } from '../api';
import type { DeviceRow, Today, WebSession } from '../generated/api';

export type Handler = (body: unknown) => { status: number; body?: unknown };

export interface FakeServer {
  requests: { method: string; path: string; body: unknown; csrf: string | null }[];
}

/**
 * Installs a fake server answering `METHOD /path?query` from `routes`, or `METHOD /path` for
 * any query; 404 for anything else.
 */
export function fakeServer(routes: Record<string, Handler>): FakeServer {
  const server: FakeServer = { requests: [] };
  setFetch((input, init) => {
    const method = init.method ?? 'GET';
    const headers = new Headers(init.headers);
    const body: unknown =
      typeof init.body !== 'string'
        ? undefined
        : headers.get('Content-Type') === 'application/json'
          ? JSON.parse(init.body)
          : init.body;
    server.requests.push({ method, path: input, body, csrf: headers.get('X-Lapak-CSRF') });
    const route = routes[`${method} ${input}`] ?? routes[`${method} ${input.split('?')[0]}`];
    const answer = route ? route(body) : { status: 404, body: { error: { code: 'not_found', message: 'no route' } } };
    const status = answer.status;
    return Promise.resolve(
      new Response(answer.body === undefined || status === 204 ? null : JSON.stringify(answer.body), {
        status,
        headers: { 'Content-Type': 'application/json' },
      }),
    );
  });
  return server;
}

/** A signed-in administrator's session. */
export function session(overrides: Partial<WebSession> = {}): WebSession {
  return { username: 'admin', role: 'admin', grants: [], csrf_token: 'lpc_test', expires_in: 900, ...overrides };
}

/** A day with two branches' sales. */
export function today(overrides: Partial<Today> = {}): Today {
  return {
    day_started_at: Date.UTC(2026, 10, 30, 17),
    sales: [
      { branch: 'JKT-01', name: 'Jakarta Pusat', invoices: 12, total: 1_250_000 },
      { branch: 'BDG-01', name: 'Bandung', invoices: 3, total: 90_000 },
    ],
    devices: { active: 40, online: 31, silent: 2 },
    open_exceptions: 5,
    rejections_last_day: 7,
    outbox_backlog: 120,
    ...overrides,
  };
}

/** An error answer in the server's format. */
export function error(status: number, code: string, message: string) {
  return { status, body: { error: { code, message } } };
}

/** A POS terminal seen a minute ago, fully caught up. */
export function device(overrides: Partial<DeviceRow> = {}): DeviceRow {
  const now = Date.now();
  return {
    id: '019ad0c4-5f0e-7c3a-9a57-41d9d3c2e8b1',
    username: 'kasir-jkt01-1',
    name: 'POS 1, Jakarta 01',
    app_version: 'lapak-pos/0.1.0',
    registered_at: now - 86_400_000,
    last_seen_at: now - 60_000,
    pulled_at: now - 60_000,
    behind: 0,
    revoked_at: null,
    ...overrides,
  };
}
