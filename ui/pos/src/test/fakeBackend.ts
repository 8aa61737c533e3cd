/**
 * A fake Rust side for component tests: answers commands from handlers, records every call,
 * and emits events to the page's listeners. Installed with `setTransport`; no Tauri needed.
 */
import type { Transport } from '@lapak/kit';
import type {
  AppState,
  CartView,
  CommandError,
  Receipt,
  ShiftView,
  SyncBadge,
} from '../generated/api';
import { setTransport, type Commands, type Events } from '../ipc';

type Handler<K extends keyof Commands> = (request: Commands[K][0]) => Commands[K][1] | Promise<Commands[K][1]>;

/** Per-command answers; a command without one fails with `internal`. */
export type Handlers = { [K in keyof Commands]?: Handler<K> };

/** One recorded call. */
export interface Call {
  name: keyof Commands;
  request: unknown;
}

export interface FakeBackend {
  calls: Call[];
  /** The requests sent to `name`, in order. */
  requests<K extends keyof Commands>(name: K): Commands[K][0][];
  /** Send an event to the page. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void;
  /** Replace or add answers. */
  handle(more: Handlers): void;
}

/** Install a fake backend answering with `handlers`. */
export function fakeBackend(handlers: Handlers = {}): FakeBackend {
  const answers: Handlers = { ...handlers };
  const calls: Call[] = [];
  const listeners = new Map<string, Set<(payload: unknown) => void>>();

  const transport: Transport = {
    invoke: (command, args) => {
      const name = command as keyof Commands;
      calls.push({ name, request: args.request });
      const handler = answers[name] as ((request: unknown) => unknown) | undefined;
      // Like Tauri: answers arrive later, and a thrown CommandError arrives as a rejection.
      return Promise.resolve().then(() => {
        if (!handler) throw commandError('internal', `no fake answer for ${command}`);
        return handler(args.request);
      });
    },
    listen: (event, handler) => {
      const set = listeners.get(event) ?? new Set();
      set.add(handler);
      listeners.set(event, set);
      return Promise.resolve(() => set.delete(handler));
    },
  };
  setTransport(transport);

  return {
    calls,
    requests: <K extends keyof Commands>(name: K) =>
      calls.filter((c) => c.name === name).map((c) => c.request as Commands[K][0]),
    emit: (event, payload) => listeners.get(event)?.forEach((handler) => handler(payload)),
    handle: (more) => Object.assign(answers, more),
  };
}

/** A thrown `CommandError` as Rust sends it. */
export function commandError(code: CommandError['code'], message: string): CommandError {
  return { code, message };
}

export function shiftView(over: Partial<ShiftView> = {}): ShiftView {
  return {
    id: 'shift-1',
    opened_at: Date.UTC(2026, 11, 1, 1, 0),
    opening_cash: 200_000,
    cash_sales: 150_000,
    refunds: 10_000,
    expected_cash: 340_000,
    sales: 7,
    counted_cash: null,
    difference: null,
    closed_at: null,
    ...over,
  };
}

export function appState(over: Partial<AppState> = {}): AppState {
  return {
    phase: 'ready',
    server: 'http://127.0.0.1:8080',
    user: { username: 'c-jkt01-1', name: 'Sari', role: 'cashier' },
    terminal: { branch: 'JKT-01', branch_name: 'Jakarta Pusat', terminal: 'POS-1' },
    branches: [{ code: 'JKT-01', name: 'Jakarta Pusat' }],
    locale: 'en',
    shift: shiftView(),
    ...over,
  };
}

export function emptyCart(over: Partial<CartView> = {}): CartView {
  return {
    lines: [],
    price_list: 'retail',
    customer: null,
    voucher: null,
    subtotal: 0,
    line_discounts: 0,
    bill_discount: 0,
    voucher_discount: 0,
    tax: 0,
    total: 0,
    held_bill: null,
    notices: [],
    ...over,
  };
}

/** A cart with one line: 2 × Indomie at Rp 3.500, tax 770, total Rp 7.770. */
export function cartWithNoodles(over: Partial<CartView> = {}): CartView {
  return emptyCart({
    lines: [
      {
        sku: 'SKU-000001',
        name: 'Indomie Goreng',
        qty: 2,
        price: 3_500,
        discount: 0,
        tax: 770,
        amount: 7_000,
        stock: 118,
        unpriced: false,
      },
    ],
    subtotal: 7_000,
    tax: 770,
    total: 7_770,
    ...over,
  });
}

export function receipt(over: Partial<Receipt> = {}): Receipt {
  return {
    id: 'inv-1',
    number: 'JKT-01/POS-1/261201/0007',
    branch: 'JKT-01',
    branch_name: 'Jakarta Pusat',
    terminal: 'POS-1',
    cashier: 'Sari',
    customer: null,
    customer_name: null,
    sold_at: Date.UTC(2026, 11, 1, 3, 15),
    lines: [
      { sku: 'SKU-000001', name: 'Indomie Goreng', qty: 2, price: 3_500, discount: 0, tax: 770, total: 7_770, returned: 0 },
    ],
    subtotal: 7_000,
    discount: 0,
    tax: 770,
    total: 7_770,
    payments: [{ method: 'cash', amount: 7_770 }],
    cash_tendered: 10_000,
    change: 2_230,
    voucher: null,
    verdict: { state: 'pending' },
    refunded: 0,
    ...over,
  };
}

export function badge(over: Partial<SyncBadge> = {}): SyncBadge {
  return { connection: 'live', pending: 0, last_sync: Date.UTC(2026, 11, 1, 3, 0), rejected: 0, error: null, ...over };
}
