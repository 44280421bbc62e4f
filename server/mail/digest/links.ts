import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Kysely, Selectable, Transaction } from "kysely";
import type { ActionLinksTable, Database } from "../../db/schema";
import { tenantSigningKey } from "../../auth/tenant-signing-keys";

type Db = Kysely<Database> | Transaction<Database>;

/** The actions a digest link can carry. */
export type LinkAction = ActionLinksTable["action"];

/** A stored action link. */
export type ActionLinkRow = Selectable<ActionLinksTable>;

/** How long a digest link works. */
export const LINK_TTL_MS = 72 * 60 * 60 * 1000;

const SECRET_NAME = "digest-links";

/** The tenant's HMAC key for issuing digest links, made on first use (`tenantSigningKey`). */
export async function linkSecret(db: Db, tenantId: string, serverKey: Buffer): Promise<Buffer> {
  const secret = await tenantSigningKey(db, tenantId, SECRET_NAME, serverKey, true);
  if (!secret) throw new Error("no digest link key");
  return secret;
}

/** The MAC over everything a link grants: which tenant, which item, which action, until when. */
function mac(
  secret: Buffer,
  link: Pick<ActionLinkRow, "id" | "tenant_id" | "held_item_id" | "user_id" | "action" | "expires_at">,
): string {
  const payload = [
    "v1",
    link.id,
    link.tenant_id,
    link.held_item_id,
    link.user_id,
    link.action,
    new Date(link.expires_at).getTime(),
  ].join("|");
  return createHmac("sha256", secret).update(payload).digest("base64url");
}

/** Creates a signed, single-use link for one action on one held item; returns the token that goes in the URL. */
export async function createActionLink(
  trx: Transaction<Database>,
  input: {
    tenantId: string;
    heldItemId: string;
    userId: string;
    action: LinkAction;
    digestId: string | null;
    now: Date;
    secret: Buffer;
  },
): Promise<string> {
  const row = {
    id: randomBytes(16).toString("base64url"),
    tenant_id: input.tenantId,
    digest_id: input.digestId,
    held_item_id: input.heldItemId,
    user_id: input.userId,
    action: input.action,
    expires_at: new Date(input.now.getTime() + LINK_TTL_MS),
  };
  await trx.insertInto("action_links").values(row).execute();
  return `${row.id}.${mac(input.secret, row)}`;
}

/** What a presented token turned out to be. */
export type LinkCheck =
  | { state: "valid"; link: ActionLinkRow }
  | { state: "used"; link: ActionLinkRow }
  | { state: "expired"; link: ActionLinkRow }
  | { state: "invalid" };

const TOKEN_RE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** Checks a token: unknown id or a signature that does not match (tampered) → invalid; then used, expired, or valid. */
export async function checkActionLink(
  db: Db,
  token: string,
  now: Date,
  serverKey: Buffer,
): Promise<LinkCheck> {
  const match = TOKEN_RE.exec(token);
  if (!match) return { state: "invalid" };
  const [, id, signature] = match;
  const link = await db
    .selectFrom("action_links")
    .selectAll()
    .where("id", "=", id ?? "")
    .executeTakeFirst();
  if (!link) return { state: "invalid" };
  // A check never makes the key: without one, nothing of this tenant was ever signed.
  const secret = await tenantSigningKey(db, link.tenant_id, SECRET_NAME, serverKey, false);
  if (!secret) return { state: "invalid" };
  const expected = Buffer.from(mac(secret, link));
  const given = Buffer.from(signature ?? "");
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { state: "invalid" };
  if (link.used_at) return { state: "used", link };
  if (new Date(link.expires_at).getTime() <= now.getTime()) return { state: "expired", link };
  return { state: "valid", link };
}

/** Claims a link for use (single use even under concurrent clicks); false when another click got there first or it expired. */
export async function claimActionLink(db: Db, id: string, now: Date): Promise<boolean> {
  const claimed = await db
    .updateTable("action_links")
    .set({ used_at: now })
    .where("id", "=", id)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return Number(claimed.numUpdatedRows) === 1;
}

/** Records what using the link did (shown when it is followed again). */
export async function recordLinkOutcome(db: Db, id: string, outcome: string): Promise<void> {
  await db.updateTable("action_links").set({ outcome }).where("id", "=", id).execute();
}

/** Gives a claimed link back after a failure that was not the user's doing (e.g. the database was briefly away). */
export async function releaseLinkClaim(db: Db, id: string): Promise<void> {
  await db
    .updateTable("action_links")
    .set({ used_at: null })
    .where("id", "=", id)
    .where("outcome", "is", null)
    .execute();
}
