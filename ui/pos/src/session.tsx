/**
 * What every screen of the signed-in app shares: the app state Rust last answered, the open
 * shift within it, and navigation between screens.
 */
import { createContext, useContext } from 'react';
import type { AppState, ShiftView } from './generated/api';

/** The screens of the signed-in app, in nav order (F1 … F6). */
export const SCREENS = ['sell', 'held', 'history', 'returns', 'shift', 'rejections'] as const;

/** One screen. */
export type Screen = (typeof SCREENS)[number];

/** Where to go, and what the screen should start with. */
export interface Route {
  screen: Screen;
  /** Returns: the invoice to look up at once. */
  invoice?: string;
}

/** The signed-in app's shared state. */
export interface Session {
  app: AppState;
  setApp: (app: AppState) => void;
  setShift: (shift: ShiftView | null) => void;
  go: (route: Route) => void;
}

const SessionContext = createContext<Session | null>(null);

export const SessionProvider = SessionContext.Provider;

/** The signed-in app's shared state (only inside the main layout). */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
