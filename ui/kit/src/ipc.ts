/**
 * Typed calls into the native side of an app (Tauri 2 commands and events), with one error type.
 *
 * An app declares its commands as a map from name to `[Request, Response]` and its events as a
 * map from name to payload, and gets back `call` and `listen` that only accept those names and
 * types. Every failure becomes an {@link IpcError} with a code the app knows, so pages branch on
 * `code` and show `message`. The transport is swappable so tests run without a native side.
 */

/** Command name → `[request, response]`. */
export type CommandShape<C> = { [K in keyof C]: readonly [unknown, unknown] };

/** How calls and events reach the native side. */
export interface Transport {
  /** Run a command; resolves with its answer, rejects with whatever the native side threw. */
  invoke(command: string, args: Record<string, unknown>): Promise<unknown>;
  /** Subscribe to an event; resolves with a function that unsubscribes. */
  listen(event: string, handler: (payload: unknown) => void): Promise<() => void>;
}

/** A failed command: `code` to branch on, `message` for people. */
export class IpcError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string) {
    super(message);
    this.name = 'IpcError';
    this.code = code;
  }
}

/** What an app tells {@link createIpc} about its error codes. */
export interface ErrorCodes<Code extends string> {
  /** Whether a string the native side sent is one of the app's codes. */
  isCode(code: string): code is Code;
  /** The code for anything else (a thrown string, a crash, an unknown code). */
  fallback: Code;
}

/**
 * Any thrown value as an {@link IpcError}: a `{code, message}` object keeps its message and its
 * code when known (else the fallback code); strings and `Error`s become the fallback code.
 */
export function normalizeError<Code extends string>(
  thrown: unknown,
  codes: ErrorCodes<Code>,
): IpcError<Code> {
  if (isCodeAndMessage(thrown)) {
    const code = codes.isCode(thrown.code) ? thrown.code : codes.fallback;
    return new IpcError(code, thrown.message);
  }
  if (typeof thrown === 'string') return new IpcError(codes.fallback, thrown);
  if (thrown instanceof Error) return new IpcError(codes.fallback, thrown.message);
  return new IpcError(codes.fallback, describe(thrown));
}

function isCodeAndMessage(value: unknown): value is { code: string; message: string } {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.code === 'string' && typeof record.message === 'string';
}

function describe(value: unknown): string {
  if (value === undefined || value === null) return 'Unknown error';
  try {
    return JSON.stringify(value);
  } catch {
    return 'Unknown error';
  }
}

/** The typed `call` and `listen` of one app (plain functions: safe to pass around unbound). */
export interface Ipc<C extends CommandShape<C>, E, Code extends string> {
  /** Run `name` with `request` (sent as `{ request }`); throws {@link IpcError}. */
  call: <K extends keyof C & string>(name: K, request: C[K][0]) => Promise<C[K][1]>;
  /** Subscribe to `event`; returns a function that unsubscribes (safe to call at once). */
  listen: <K extends keyof E & string>(event: K, handler: (payload: E[K]) => void) => () => void;
  /** Use another transport (tests); `null` goes back to the default one. */
  setTransport: (transport: Transport | null) => void;
  /** Turn anything thrown into this app's error type. */
  normalize: (thrown: unknown) => IpcError<Code>;
}

/** Build an app's {@link Ipc} over a default transport (made on first use). */
export function createIpc<C extends CommandShape<C>, E, Code extends string>(options: {
  defaultTransport: () => Transport;
  codes: ErrorCodes<Code>;
}): Ipc<C, E, Code> {
  let override: Transport | null = null;
  let fallback: Transport | null = null;
  const transport = (): Transport => override ?? (fallback ??= options.defaultTransport());
  const normalize = (thrown: unknown) => normalizeError(thrown, options.codes);

  return {
    call: async <K extends keyof C & string>(name: K, request: C[K][0]): Promise<C[K][1]> => {
      try {
        return await transport().invoke(name, { request });
      } catch (thrown) {
        throw normalize(thrown);
      }
    },
    listen: (event, handler) => {
      let stopped = false;
      let stop: (() => void) | null = null;
      transport()
        .listen(event, (payload) => handler(payload as never))
        .then((unlisten) => {
          if (stopped) unlisten();
          else stop = unlisten;
        })
        .catch((thrown: unknown) => {
          console.warn(`cannot listen to ${event}:`, normalize(thrown).message);
        });
      return () => {
        stopped = true;
        stop?.();
      };
    },
    setTransport: (next) => {
      override = next;
    },
    normalize,
  };
}
