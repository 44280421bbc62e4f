import type { AuthStrategy } from "../api/http";

/** The portal's CSRF cookie (double-submit): readable by script, echoed in the `x-csrf-token` header. */
export const CSRF_COOKIE = "mw_csrf";
/** The header the server checks on unsafe methods. */
export const CSRF_HEADER = "x-csrf-token";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Reads one cookie's value from a `document.cookie` string. */
export function readCookie(cookieString: string, name: string): string | null {
  for (const part of cookieString.split(";")) {
    const separator = part.indexOf("=");
    if (separator === -1) continue;
    if (part.slice(0, separator).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(separator + 1).trim());
    } catch {
      return part.slice(separator + 1).trim();
    }
  }
  return null;
}

/** Cookie-session auth for the portal: the browser sends the session cookie; unsafe methods add the CSRF header. */
export function createCookieAuth(readCookies: () => string = () => document.cookie): AuthStrategy {
  let remembered: string | null = null;
  return {
    mode: "cookie",
    async headers(method: string): Promise<Record<string, string>> {
      if (!UNSAFE.has(method.toUpperCase())) return {};
      const token = readCookie(readCookies(), CSRF_COOKIE) ?? remembered;
      return token ? { [CSRF_HEADER]: token } : {};
    },
    rememberCsrfToken(token: string) {
      remembered = token;
    },
  };
}

/** An access token for our API and when it stops being valid (epoch ms). */
export interface AccessToken {
  token: string;
  expiresAt: number;
}

/** Something that can get an access token for our API (nested app auth, or the dialog fallback). */
export interface TokenProvider {
  getToken(forceRefresh: boolean): Promise<AccessToken>;
}

/** Bearer auth for Outlook: caches the token until a minute before it expires, and refreshes once on a 401. */
export function createBearerAuth(provider: TokenProvider, now: () => number = Date.now): AuthStrategy {
  let cached: AccessToken | null = null;
  let pending: Promise<AccessToken> | null = null;
  const fetchToken = (force: boolean): Promise<AccessToken> => {
    pending ??= provider.getToken(force).finally(() => {
      pending = null;
    });
    return pending;
  };
  return {
    mode: "bearer",
    async headers() {
      if (!cached || cached.expiresAt - 60_000 <= now()) cached = await fetchToken(false);
      return { authorization: `Bearer ${cached.token}` };
    },
    async refresh() {
      cached = null;
      try {
        cached = await fetchToken(true);
        return true;
      } catch {
        return false;
      }
    },
  };
}
