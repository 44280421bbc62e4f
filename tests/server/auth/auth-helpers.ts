import { gunzipSync } from "node:zlib";
import type { Kysely } from "kysely";
import { simpleParser } from "mailparser";
import { totpFor } from "../../../server/auth/totp";
import type { Database } from "../../../server/db/schema";
import type { ApiClient } from "../../support/http";

/** The 6-digit code an authenticator shows for a secret at a time (offset in 30 s steps). */
export function codeAt(secret: string, at: Date, stepOffset = 0): string {
  return totpFor(secret).generate({ timestamp: at.getTime() + stepOffset * 30_000 });
}

/** The default tenant of a test server (the one bootstrap created). */
export async function defaultTenantId(db: Kysely<Database>): Promise<string> {
  const tenant = await db.selectFrom("tenants").select("id").orderBy("created_at").executeTakeFirstOrThrow();
  return tenant.id;
}

/** Enrols TOTP for a signed-in client and returns the secret and recovery codes (the client keeps the rotated session). */
export async function enrolTotp(
  client: ApiClient,
  now: Date,
): Promise<{ secret: string; recoveryCodes: string[] }> {
  const started = await client.request("POST", "/api/me/totp/enroll", {});
  if (started.status !== 200) throw new Error(`enroll answered ${started.status} ${started.text}`);
  const secret = String(started.json.secret);
  const confirmed = await client.request("POST", "/api/me/totp/confirm", { code: codeAt(secret, now) });
  if (confirmed.status !== 200) throw new Error(`confirm answered ${confirmed.status} ${confirmed.text}`);
  client.csrfToken = String(confirmed.json.csrfToken);
  return { secret, recoveryCodes: confirmed.json.recoveryCodes as string[] };
}

/** The link token of the newest account mail (reset or invitation) queued for an address, from its live copy. */
export async function latestLinkToken(
  db: Kysely<Database>,
  email: string,
  purpose: "password_reset" | "invite",
): Promise<string | null> {
  const row = await db
    .selectFrom("deliveries")
    .select(["transient_raw"])
    .where("recipient", "=", email.toLowerCase())
    .where("purpose", "=", purpose)
    .orderBy("created_at", "desc")
    .executeTakeFirst();
  if (!row?.transient_raw) return null;
  const parsed = await simpleParser(gunzipSync(row.transient_raw));
  return /#token=([A-Za-z0-9_-]+)/.exec(parsed.text ?? "")?.[1] ?? null;
}
