/**
 * The admin web's calls to lapak-server's JSON API. The session lives in cookies the page
 * cannot read (HttpOnly); requests that change state carry the session's anti-forgery token
 * (`X-Lapak-CSRF`). An expired access cookie is refreshed once, transparently; when the session
 * has ended, the page is told (`onSignedOut`) and shows the sign-in again. Every failure is an
 * {@link IpcError} with the server's `code` and `message`.
 */
import { IpcError } from '@lapak/kit';
import type {
  DataCollection,
  DataRow,
  DeviceRow,
  ExceptionRecord,
  Grant,
  ImportCheck,
  ImportProgress,
  NewUser,
  Page,
  RecordPhotos,
  Rejection,
  Report,
  ReportKind,
  SignIn,
  Today,
  UserInfo,
  WebSession,
} from './generated/api';

/** How the page reaches the server (tests swap it). */
export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

let fetcher: Fetch = (input, init) => fetch(input, init);
let csrf = '';
let signedOut: (() => void) | null = null;
let refreshing: Promise<boolean> | null = null;

/** Use another `fetch` (tests); `null` goes back to the browser's. */
export function setFetch(next: Fetch | null) {
  fetcher = next ?? ((input, init) => fetch(input, init));
  csrf = '';
  refreshing = null;
}

/** Called when the session has ended (signed out elsewhere, revoked, idle too long). */
export function onSignedOut(handler: (() => void) | null) {
  signedOut = handler;
}

interface ErrorBody {
  error?: { code?: string; message?: string };
}

/** The code of a failure that means the server could not be reached. */
export const NETWORK = 'network';

/** A body sent as it is (a CSV file), not as JSON. */
export class RawBody {
  constructor(
    readonly text: string,
    readonly type: string,
  ) {}
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let payload: string | undefined;
  if (body instanceof RawBody) {
    headers['Content-Type'] = body.type;
    payload = body.text;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET') headers['X-Lapak-CSRF'] = csrf;
  try {
    return await fetcher(path, { method, headers, credentials: 'same-origin', body: payload });
  } catch {
    throw new IpcError(NETWORK, 'The server cannot be reached.');
  }
}

async function failure(resp: Response): Promise<IpcError> {
  const parsed = (await resp.json().catch(() => ({}))) as ErrorBody;
  return new IpcError(
    parsed.error?.code ?? `http_${resp.status}`,
    parsed.error?.message ?? `${resp.status} ${resp.statusText}`,
  );
}

/** Exchanges the refresh cookie for fresh cookies, once at a time; whether it worked. */
function refresh(): Promise<boolean> {
  refreshing ??= send('POST', '/v1/web/session/refresh')
    .then(async (resp) => {
      if (!resp.ok) return false;
      csrf = ((await resp.json()) as WebSession).csrf_token;
      return true;
    })
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** Sends a request of the signed-in page; refreshes the session once when it has expired. */
async function authed(method: string, path: string, body?: unknown): Promise<Response> {
  let resp = await send(method, path, body);
  if (resp.status === 401) {
    if (await refresh()) resp = await send(method, path, body);
    if (resp.status === 401) signedOut?.();
  }
  if (!resp.ok) throw await failure(resp);
  return resp;
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  return (await (await authed(method, path, body)).json()) as T;
}

/** The signed-in session, or `null` when there is none (the sign-in page shows). */
async function session(): Promise<WebSession | null> {
  let resp = await send('GET', '/v1/web/session');
  if (resp.status === 401 && (await refresh())) resp = await send('GET', '/v1/web/session');
  if (resp.status === 401) return null;
  if (!resp.ok) throw await failure(resp);
  const s = (await resp.json()) as WebSession;
  csrf = s.csrf_token;
  return s;
}

async function signIn(request: SignIn): Promise<WebSession> {
  const resp = await send('POST', '/v1/web/session', request);
  if (!resp.ok) throw await failure(resp);
  const s = (await resp.json()) as WebSession;
  csrf = s.csrf_token;
  return s;
}

async function signOut(): Promise<void> {
  try {
    await authed('DELETE', '/v1/web/session');
  } finally {
    csrf = '';
  }
}

/** Query parameters; empty, `undefined` and `false` values are left out. */
export type Params = Record<string, string | number | boolean | undefined>;

/** `path?name=value&...` from `params`. */
export function withQuery(path: string, params: Params): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== '' && value !== false) query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** `GET /v1/admin/devices` filters. */
export interface DeviceParams extends Params {
  search?: string;
  include_revoked?: boolean;
  offset?: number;
  limit?: number;
}

/** `GET /v1/admin/rejections` filters. */
export interface RejectionParams extends Params {
  code?: string;
  collection?: string;
  username?: string;
  after?: string;
  limit?: number;
}

/** `GET /v1/admin/exceptions` filters. */
export interface ExceptionParams extends Params {
  status?: 'open' | 'resolved' | 'all';
  kind?: string;
  before?: number;
  limit?: number;
}

/** The endpoints the pages use (docs/admin-api.md). */
export const api = {
  session,
  signIn,
  signOut,
  today: () => json<Today>('GET', '/v1/admin/today'),
  users: () => json<UserInfo[]>('GET', '/v1/admin/users'),
  createUser: (user: NewUser) => json<UserInfo>('POST', '/v1/admin/users', user),
  setGrants: (username: string, grants: Grant[]) =>
    json<UserInfo>('PUT', `/v1/admin/users/${encodeURIComponent(username)}/grants`, grants),
  setDisabled: (username: string, disabled: boolean) =>
    json<UserInfo>('PUT', `/v1/admin/users/${encodeURIComponent(username)}/disabled`, { disabled }),
  setPassword: async (username: string, password: string) => {
    await authed('PUT', `/v1/admin/users/${encodeURIComponent(username)}/password`, { password });
  },
  dataCollections: () => json<DataCollection[]>('GET', '/v1/admin/data'),
  dataRows: (collection: string, params: { search?: string; offset?: number; limit?: number }) =>
    json<Page<DataRow>>('GET', withQuery(`/v1/admin/data/${encodeURIComponent(collection)}`, params)),
  /** Writes rows (all their fields) or deletes them (`fields: null`). */
  putRows: (collection: string, rows: { id: string; fields: DataRow['fields'] | null }[]) =>
    json<{ written: number; head: number }>('PUT', `/v1/admin/reference/${encodeURIComponent(collection)}`, {
      rows: rows.map((r) => (r.fields === null ? { id: r.id, deleted: true } : r)),
    }),
  checkImport: (collection: string, csv: string) =>
    json<ImportCheck>(
      'POST',
      `/v1/admin/data/${encodeURIComponent(collection)}/import?dry_run=true`,
      new RawBody(csv, 'text/csv'),
    ),
  startImport: (collection: string, csv: string) =>
    json<ImportProgress>('POST', `/v1/admin/data/${encodeURIComponent(collection)}/import`, new RawBody(csv, 'text/csv')),
  importProgress: (id: string) => json<ImportProgress>('GET', `/v1/admin/imports/${encodeURIComponent(id)}`),
  recordPhotos: (collection: string, id: string) =>
    json<RecordPhotos>(
      'GET',
      `/v1/admin/records/${encodeURIComponent(collection)}/${encodeURIComponent(id)}/photos`,
    ),
  report: (kind: ReportKind, from: number, to: number) =>
    json<Report>('GET', withQuery(`/v1/admin/reports/${kind}`, { from, to })),
  devices: (params: DeviceParams) => json<Page<DeviceRow>>('GET', withQuery('/v1/admin/devices', params)),
  revokeDevice: async (id: string) => {
    await authed('POST', `/v1/admin/devices/${encodeURIComponent(id)}/revoke`);
  },
  rejections: (params: RejectionParams) => json<Rejection[]>('GET', withQuery('/v1/admin/rejections', params)),
  exceptions: (params: ExceptionParams) =>
    json<ExceptionRecord[]>('GET', withQuery('/v1/admin/exceptions', params)),
  resolveException: (id: string, note: string) =>
    json<ExceptionRecord>('POST', `/v1/admin/exceptions/${encodeURIComponent(id)}/resolve`, { note }),
};

/** Where a report's CSV is downloaded (a plain link: the session cookie goes with it). */
export function reportCsvUrl(kind: ReportKind, from: number, to: number): string {
  return withQuery(`/v1/admin/reports/${kind}`, { from, to, format: 'csv' });
}
