// The API token lives in sessionStorage only: it is gone when the tab closes, never written to
// localStorage or a cookie, and no other tab or site can read it.
import { useSyncExternalStore } from 'react';

const KEY = 'wharf.token';
const listeners = new Set<() => void>();
let signOutReason: string | null = null;

export function currentToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signIn(token: string): void {
  sessionStorage.setItem(KEY, token);
  signOutReason = null;
  listeners.forEach((listener) => listener());
}

/** Forget the token; `reason` is shown on the sign-in page (an expired or revoked token). */
export function signOut(reason: string | null = null): void {
  sessionStorage.removeItem(KEY);
  signOutReason = reason;
  listeners.forEach((listener) => listener());
}

export function lastSignOutReason(): string | null {
  return signOutReason;
}

export function useToken(): string | null {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    currentToken,
  );
}
