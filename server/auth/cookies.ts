import type { Response } from "express";
import type { Services } from "../context";
import { CSRF_COOKIE, SESSION_COOKIE } from "./sessions";

/** Secure cookies everywhere except plain-http localhost development. */
export function cookieSecurity(services: Services): boolean {
  const url = new URL(services.config.MAILWARD_PUBLIC_URL);
  return url.protocol === "https:" || !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
}

/** Sets the session (HttpOnly) and CSRF (readable, double submit) cookies after a sign-in or a rotation. */
export function setSessionCookies(
  res: Response,
  services: Services,
  token: string,
  csrf: string,
  expires: Date,
): void {
  const secure = cookieSecurity(services);
  res.cookie(SESSION_COOKIE, token, { httpOnly: true, secure, sameSite: "lax", path: "/", expires });
  res.cookie(CSRF_COOKIE, csrf, { httpOnly: false, secure, sameSite: "lax", path: "/", expires });
}

/** Removes both session cookies (sign-out). */
export function clearSessionCookies(res: Response): void {
  res.clearCookie(SESSION_COOKIE, { path: "/" });
  res.clearCookie(CSRF_COOKIE, { path: "/" });
}
