import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../../../server/db/schema";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildArchivedMessage, buildRawMessage, buildUser } from "../../factories";
import type { Role } from "../../../shared/permissions";

/** Password every user made by these helpers signs in with. */
export const PASSWORD = "correct horse battery staple";

/** A running server plus shortcuts to make people and held messages in its default tenant (example.com). */
export interface SelfServiceFixture {
  server: TestServer;
  db: Kysely<Database>;
  tenantId: string;
  user(input?: {
    roles?: Role[];
    teamId?: string | null;
    email?: string;
  }): Promise<{ id: string; email: string; client: ApiClient }>;
  team(name?: string): Promise<string>;
  held(input: HeldSeed): Promise<{ id: string; messageId: string }>;
  /** A mail-enabled group (as the directory sync keeps it): its address and its members. */
  group(address: string, oid: string, memberIds: string[]): Promise<void>;
  /** Adds someone to a group's members. */
  join(oid: string, userId: string): Promise<void>;
}

/** What to hold: for whom (null: group mail, nobody's own), why, from whom, and optionally a past expiry or another status. */
export interface HeldSeed {
  userId: string | null;
  recipient: string;
  reason?: string;
  from?: string;
  subject?: string;
  status?: string;
  expiresAt?: Date;
  createdAt?: Date;
  signals?: unknown[];
  raw?: Buffer;
  score?: number;
}

/** Starts Mailward in-process and returns helpers bound to its database. */
export async function startSelfServiceFixture(env: Record<string, string> = {}): Promise<SelfServiceFixture> {
  const server = await startTestServer(env);
  const db = server.mailward.services.db;
  const tenant = await db
    .selectFrom("tenant_domains")
    .select("tenant_id")
    .where("domain", "=", "example.com")
    .executeTakeFirstOrThrow();
  const tenantId = tenant.tenant_id;
  const joinGroup = async (oid: string, userId: string) => {
    await db
      .insertInto("group_members")
      .values({ tenant_id: tenantId, group_oid: oid, user_id: userId })
      .execute();
  };
  return {
    server,
    db,
    tenantId,
    async user(input = {}) {
      const email = input.email ?? `u-${randomBytes(4).toString("hex")}@example.com`;
      const user = await buildUser(db, {
        tenantId,
        email,
        roles: input.roles ?? ["agent"],
        password: PASSWORD,
        teamId: input.teamId ?? null,
      });
      const client = new ApiClient(server.baseUrl);
      const login = await client.login(user.email, PASSWORD);
      if (login.status !== 200)
        throw new Error(`login failed for ${user.email}: ${login.status} ${login.text}`);
      return { id: user.id, email: user.email, client };
    },
    async team(name = `Team ${randomBytes(3).toString("hex")}`) {
      const row = await db
        .insertInto("teams")
        .values({ tenant_id: tenantId, name })
        .returning("id")
        .executeTakeFirstOrThrow();
      return row.id;
    },
    async group(address, oid, memberIds) {
      await db
        .insertInto("group_addresses")
        .values({ address, tenant_id: tenantId, group_oid: oid, display_name: `Group ${oid}` })
        .execute();
      for (const userId of memberIds) await joinGroup(oid, userId);
    },
    join: joinGroup,
    async held(input) {
      const from = input.from ?? "Sender <sender@outside.example>";
      const raw =
        input.raw ??
        buildRawMessage({
          from,
          to: input.recipient,
          subject: input.subject ?? `Held ${randomBytes(3).toString("hex")}`,
        });
      const message = await buildArchivedMessage(db, {
        tenantId,
        raw,
        links: input.userId ? [{ userId: input.userId, folder: "quarantine" }] : [],
      });
      const row = await db
        .insertInto("held_items")
        .values({
          tenant_id: tenantId,
          message_id: message.id,
          user_id: input.userId,
          recipient: input.recipient,
          reason: input.reason ?? "spam",
          score: input.score ?? 7.5,
          signals: JSON.stringify(
            input.signals ?? [{ id: "content.spam", label: "The content looks like bulk spam.", weight: 6 }],
          ),
          status: input.status ?? "held",
          expires_at: input.expiresAt ?? new Date(Date.now() + 14 * 86_400_000),
          ...(input.createdAt ? { created_at: input.createdAt } : {}),
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      return { id: row.id, messageId: message.id };
    },
  };
}

/** Deliveries queued for one message (any purpose). */
export async function deliveriesOf(db: Kysely<Database>, messageId: string) {
  return db
    .selectFrom("deliveries")
    .select(["recipient", "purpose", "state"])
    .where("message_id", "=", messageId)
    .execute();
}

/** Audit events of one action in a tenant, oldest first. */
export async function auditEvents(db: Kysely<Database>, tenantId: string, action: string) {
  return db
    .selectFrom("audit_events")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("action", "=", action)
    .orderBy("seq")
    .execute();
}
