import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../server/db/schema";
import { hashPassword } from "../server/auth/passwords";
import { loadActor } from "../server/auth/actor";
import type { Actor } from "../server/context";
import type { Role } from "../shared/permissions";
import { archiveFieldsOf, parseMessage } from "../server/archive/parse";
import { archiveMessage, linkMailbox } from "../server/archive/store";

const unique = () => randomBytes(4).toString("hex");

/**
 * One argon2id hash per password for the users the factories make (~50 ms of CPU each, ~400 a run): people sharing a
 * password share its hash, which holds for verification (the salt is in the hash) and changes nothing a test checks.
 */
const passwordHashes = new Map<string, Promise<string>>();
function hashOnce(password: string): Promise<string> {
  let hash = passwordHashes.get(password);
  if (!hash) {
    hash = hashPassword(password);
    passwordHashes.set(password, hash);
  }
  return hash;
}

/** Creates a tenant with its domains (unique ones by default). */
export async function buildTenant(db: Kysely<Database>, input: { name?: string; domains?: string[] } = {}) {
  const tenant = await db
    .insertInto("tenants")
    .values({ name: input.name ?? `Tenant ${unique()}` })
    .returning("id")
    .executeTakeFirstOrThrow();
  const domains = input.domains ?? [`t${unique()}.example`];
  for (const domain of domains)
    await db
      .insertInto("tenant_domains")
      .values({ tenant_id: tenant.id, domain, verified_at: new Date() })
      .execute();
  return { id: tenant.id, domains };
}

/** Input for buildUser; anything missing (tenant, team, partner) is created. */
export interface BuildUserInput {
  tenantId?: string;
  email?: string;
  roles?: Role[];
  password?: string;
  teamId?: string | null;
  partnerId?: string | null;
  displayName?: string;
}

/** Creates a user with roles (scoped like add-user does) and returns its id, email and actor. */
export async function buildUser(
  db: Kysely<Database>,
  input: BuildUserInput = {},
): Promise<{ id: string; email: string; tenantId: string; actor: Actor }> {
  const tenantId = input.tenantId ?? (await buildTenant(db)).id;
  const domain =
    (
      await db
        .selectFrom("tenant_domains")
        .select("domain")
        .where("tenant_id", "=", tenantId)
        .executeTakeFirst()
    )?.domain ?? "example.com";
  const email = (input.email ?? `user-${unique()}@${domain}`).toLowerCase();
  const user = await db
    .insertInto("users")
    .values({
      tenant_id: tenantId,
      email,
      display_name: input.displayName ?? email.split("@")[0] ?? email,
      password_hash: input.password ? await hashOnce(input.password) : null,
      team_id: input.teamId ?? null,
      partner_id: input.partnerId ?? null,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  for (const role of input.roles ?? ["agent"]) {
    const scope =
      role === "team_lead"
        ? "team"
        : role === "partner_admin"
          ? "partner"
          : role === "agent"
            ? "own"
            : "tenant";
    const scopeId =
      scope === "team" ? (input.teamId ?? null) : scope === "partner" ? (input.partnerId ?? null) : null;
    await db
      .insertInto("role_assignments")
      .values({ tenant_id: tenantId, user_id: user.id, role, scope, scope_id: scopeId })
      .execute();
  }
  const loaded = await loadActor(db, user.id, "session");
  if (!loaded) throw new Error("buildUser: actor not loadable");
  // As if they had just signed in (no session row: commands called directly in tests).
  const actor = { ...loaded, signedInAt: new Date() };
  return { id: user.id, email, tenantId, actor };
}

/** Grants a permission outside any role (archive.read_any, held.read_any), as an admin would on purpose. */
export async function grantPermission(
  db: Kysely<Database>,
  grant: { tenantId: string; userId: string; permission: string; reason?: string; expiresAt?: Date },
): Promise<void> {
  await db
    .insertInto("permission_grants")
    .values({
      tenant_id: grant.tenantId,
      user_id: grant.userId,
      permission: grant.permission,
      reason: grant.reason ?? "test grant",
      ...(grant.expiresAt ? { expires_at: grant.expiresAt } : {}),
    })
    .execute();
}

/** A minimal RFC 5322 message for tests. */
export function buildRawMessage(
  input: {
    from?: string;
    to?: string;
    subject?: string;
    body?: string;
    messageId?: string;
    date?: Date;
    extraHeaders?: string;
  } = {},
): Buffer {
  const lines = [
    `From: ${input.from ?? "Sender <sender@outside.example>"}`,
    `To: ${input.to ?? "user@example.com"}`,
    `Subject: ${input.subject ?? `Test ${unique()}`}`,
    `Date: ${(input.date ?? new Date()).toUTCString()}`,
    `Message-ID: ${input.messageId ?? `<${unique()}@outside.example>`}`,
    ...(input.extraHeaders ? [input.extraHeaders] : []),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    input.body ?? "Hello there.",
    "",
  ];
  return Buffer.from(lines.join("\r\n"));
}

/** Archives a message and links it to users' folders (the archive as the gateway leaves it). */
export async function buildArchivedMessage(
  db: Kysely<Database>,
  input: {
    tenantId: string;
    raw?: Buffer;
    links?: Array<{ userId: string; folder?: "inbox" | "sent" | "quarantine" | "junk" }>;
    /** The stored verdict record (default none). */
    assessment?: Record<string, unknown>;
    direction?: "inbound" | "outbound" | "internal";
    receivedAt?: Date;
  },
) {
  const raw = input.raw ?? buildRawMessage();
  const parsed = await parseMessage(raw);
  if (!parsed) throw new Error("buildArchivedMessage: unparseable raw");
  const archived = await archiveMessage(
    db,
    input.tenantId,
    raw,
    archiveFieldsOf(parsed),
    {
      mailFrom: "sender@outside.example",
      rcptTo: [],
      direction: input.direction ?? "inbound",
      source: "smtp",
      receivedAt: input.receivedAt ?? new Date(),
    },
    input.assessment ?? null,
  );
  for (const link of input.links ?? [])
    await linkMailbox(db, {
      tenantId: input.tenantId,
      messageId: archived.id,
      userId: link.userId,
      folder: link.folder ?? "inbox",
    });
  return { id: archived.id, sha256: archived.sha256, raw };
}

/** The tenant that owns a mail domain (a started test server's bootstrap tenant owns example.com). */
export async function tenantOfDomain(db: Kysely<Database>, domain = "example.com"): Promise<string> {
  const row = await db
    .selectFrom("tenant_domains")
    .select("tenant_id")
    .where("domain", "=", domain)
    .executeTakeFirstOrThrow();
  return row.tenant_id;
}
