import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../db/schema";

/** The cookie that carries the session token (HttpOnly). */
export const SESSION_COOKIE = "mw_session";
/** The cookie the portal reads to send the CSRF header (not HttpOnly, by design: double submit). */
export const CSRF_COOKIE = "mw_csrf";
/** The header unsafe cookie-authenticated requests must carry. */
export const CSRF_HEADER = "x-csrf-token";

/** A random URL-safe token. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** Sessions are stored by the SHA-256 of their token, so a database leak gives no usable cookie. */
export function sessionIdFor(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/**
 * True when the CSRF header a request sent is its session's token, compared in constant time (timingSafeEqual), so
 * how long a refusal takes does not tell how much of a guess was right. Missing, or of another length: refused
 * (the length of the tokens is no secret: every one is made by randomToken(24)).
 */
export function csrfTokenMatches(sent: string | undefined, expected: string): boolean {
  if (sent === undefined) return false;
  const given = Buffer.from(sent, "utf8");
  const wanted = Buffer.from(expected, "utf8");
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** A newly created session: the token for the cookie and its CSRF token. */
export interface NewSession {
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

/** Creates a session for a user; always a fresh token (rotation at every sign-in). */
export async function createSession(
  db: Kysely<Database> | Transaction<Database>,
  input: {
    tenantId: string;
    userId: string;
    ip: string | null;
    userAgent: string | null;
    ttlHours: number;
    now: Date;
    /** `mfa_enrolment`: the session may only enrol TOTP (an admin role without it). Default `full`. */
    stage?: "full" | "mfa_enrolment";
    /**
     * When the person last proved who they are, kept in `created_at` (what a recent sign-in is judged by). A sign-in
     * leaves it out (now); a rotation that asks for no password passes the replaced session's.
     */
    signedInAt?: Date;
  },
): Promise<NewSession> {
  const token = randomToken();
  const csrfToken = randomToken(24);
  const expiresAt = new Date(input.now.getTime() + input.ttlHours * 3600_000);
  await db
    .insertInto("sessions")
    .values({
      id: sessionIdFor(token),
      tenant_id: input.tenantId,
      user_id: input.userId,
      csrf_token: csrfToken,
      stage: input.stage ?? "full",
      ip: input.ip,
      user_agent: input.userAgent?.slice(0, 300) ?? null,
      expires_at: expiresAt,
      created_at: input.signedInAt ?? input.now,
      last_seen_at: input.now,
    })
    .execute();
  return { token, csrfToken, expiresAt };
}

/** A live session found by its cookie token. */
export interface FoundSession {
  id: string;
  userId: string;
  tenantId: string;
  csrfToken: string;
}

/** Looks a session up by token; expired or user-less sessions count as none. */
export async function findSession(
  db: Kysely<Database>,
  token: string,
  now: Date,
): Promise<FoundSession | null> {
  const row = await db
    .selectFrom("sessions")
    .select(["id", "user_id", "tenant_id", "csrf_token", "expires_at"])
    .where("id", "=", sessionIdFor(token))
    .executeTakeFirst();
  if (!row || !row.user_id || new Date(row.expires_at) <= now) return null;
  return { id: row.id, userId: row.user_id, tenantId: row.tenant_id, csrfToken: row.csrf_token };
}

/** Ends a session by token (logout) or by id. */
export async function destroySession(
  db: Kysely<Database> | Transaction<Database>,
  token: string,
): Promise<void> {
  await db.deleteFrom("sessions").where("id", "=", sessionIdFor(token)).execute();
}

/** Ends every session of a user (password reset, disable), optionally keeping one by id. Returns how many ended. */
export async function destroyUserSessions(
  db: Kysely<Database> | Transaction<Database>,
  userId: string,
  keepSessionId?: string,
): Promise<number> {
  let query = db.deleteFrom("sessions").where("user_id", "=", userId);
  if (keepSessionId) query = query.where("id", "<>", keepSessionId);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}
