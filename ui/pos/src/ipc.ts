/**
 * The one door between the page and Rust: every Tauri command of `desktop-app/src/api/` by
 * name with its request and answer types, and the events Rust sends. Commands are called as
 * `invoke(name, { request })`; every failure arrives as an {@link IpcError} whose `code` is an
 * {@link ErrorCode} (anything unexpected is `internal`).
 *
 * Tests swap the transport with {@link setTransport} and need no Tauri.
 */
import { invoke } from '@tauri-apps/api/core';
import { listen as tauriListen } from '@tauri-apps/api/event';
import { createIpc, IpcError, type Transport } from '@lapak/kit';
import type {
  AppState,
  AppStateRequest,
  CartIntent,
  CartView,
  ChangedEvent,
  CheckoutRequest,
  CustomerView,
  Empty,
  ErrorCode,
  HeldBillView,
  HeldBillsRequest,
  HistoryRequest,
  HoldRequest,
  InvoiceSummary,
  ItemHit,
  PickTerminalRequest,
  Receipt,
  ReceiptRequest,
  RejectionView,
  ResumeRequest,
  ReturnReceipt,
  ReturnRequest,
  SearchCustomersRequest,
  SearchItemsRequest,
  SetLocaleRequest,
  ShiftIntent,
  ShiftState,
  SignInRequest,
  SignOutRequest,
  SyncBadge,
} from './generated/api';

/** Command name → `[request, answer]`, exactly as Rust registers them. */
export type Commands = {
  app_state: [AppStateRequest, AppState];
  sign_in: [SignInRequest, AppState];
  pick_terminal: [PickTerminalRequest, AppState];
  sign_out: [SignOutRequest, AppState];
  set_locale: [SetLocaleRequest, AppState];
  search_items: [SearchItemsRequest, ItemHit[]];
  search_customers: [SearchCustomersRequest, CustomerView[]];
  cart: [CartIntent, CartView];
  hold: [HoldRequest, HeldBillView];
  held_bills: [HeldBillsRequest, HeldBillView[]];
  resume: [ResumeRequest, CartView];
  checkout: [CheckoutRequest, Receipt];
  history: [HistoryRequest, InvoiceSummary[]];
  receipt: [ReceiptRequest, Receipt];
  return_items: [ReturnRequest, ReturnReceipt];
  shift: [ShiftIntent, ShiftState];
  sync_status: [Empty, SyncBadge];
  sync_now: [Empty, SyncBadge];
  rejections: [Empty, RejectionView[]];
};

/** Event name → payload. */
export type Events = {
  'lapak://status': SyncBadge;
  'lapak://changed': ChangedEvent;
};

/** A failed command as the page sees it. */
export type CommandFailure = IpcError<ErrorCode>;

// Every ErrorCode once: adding a code in Rust without adding it here fails the type check.
const ERROR_CODES: Record<ErrorCode, true> = {
  not_signed_in: true,
  no_terminal: true,
  no_shift: true,
  shift_open: true,
  bad_credentials: true,
  unreachable: true,
  not_found: true,
  invalid: true,
  empty_cart: true,
  payment: true,
  voucher: true,
  credit: true,
  return: true,
  out_of_stock: true,
  stale_cart: true,
  held_bill_gone: true,
  internal: true,
};

function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/** Tauri's own `invoke` and `listen`. */
export const tauriTransport = (): Transport => ({
  invoke: (command, args) => invoke(command, args),
  listen: (event, handler) => tauriListen(event, (e) => handler(e.payload)),
});

const ipc = createIpc<Commands, Events, ErrorCode>({
  defaultTransport: tauriTransport,
  codes: { isCode: isErrorCode, fallback: 'internal' },
});

/** Run a command; throws a {@link CommandFailure}. */
export const call = ipc.call;

/** Subscribe to an event from Rust; returns the unsubscribe function. */
export const listen = ipc.listen;

/** Use a fake backend (tests); `null` restores Tauri. */
export const setTransport = ipc.setTransport;

/** Anything thrown, as a {@link CommandFailure}. */
export const toFailure = ipc.normalize;

/** The message to show for anything thrown. */
export function failureMessage(thrown: unknown): string {
  return toFailure(thrown).message;
}

export { IpcError };
