import { sql, type Kysely } from "kysely";
import type { Database } from "../../../server/db/schema";
import { PERMISSIONS, ROLES } from "../../../shared/permissions";
import type { AccessWorld } from "../access/types";

// What the API fuzzer's requests name (tests/server/api-fuzz.test.ts): the world's real ids, addresses and mail, the
// caller's own first, so that plain requests reach the commands behind "not found".

/** Every id of the world, for ids in bodies and queries: people, groups, mail, held items, lists and reports. */
export async function idPool(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    (SELECT id::text FROM users ORDER BY created_at DESC LIMIT 40)
    UNION ALL (SELECT id::text FROM teams LIMIT 10)
    UNION ALL (SELECT id::text FROM partners LIMIT 10)
    UNION ALL (SELECT id::text FROM messages ORDER BY received_at DESC LIMIT 30)
    UNION ALL (SELECT id::text FROM held_items ORDER BY created_at DESC LIMIT 30)
    UNION ALL (SELECT id::text FROM sender_rules LIMIT 20)
    UNION ALL (SELECT id::text FROM reports LIMIT 20)`.execute(db);
  return rows.map((r) => r.id);
}

/** Internet Message-IDs of archived mail, the caller's own first (what the add-in looks a message up by). */
export async function messageIdPool(db: Kysely<Database>, userId: string): Promise<string[]> {
  const { rows } = await sql<{ message_id: string }>`SELECT m.message_id FROM messages m
    LEFT JOIN mailbox_links l ON l.message_id = m.id AND l.user_id = ${userId}
    WHERE m.message_id IS NOT NULL
    ORDER BY l.user_id IS NOT NULL DESC, m.received_at DESC LIMIT 20`.execute(db);
  return rows.map((r) => r.message_id);
}

/**
 * What each path parameter of `route` names, the caller's own first (their held items, messages, lists, reports),
 * then the rest of the world's: a request then reaches the command behind "not found" often enough to test it.
 */
export async function paramPool(
  world: AccessWorld,
  route: string,
  userId: string,
): Promise<Record<string, string[]>> {
  const db = world.db;
  const mineFirst = async (table: "held_items" | "sender_rules" | "smtp_passwords"): Promise<string[]> =>
    (
      await sql<{ id: string }>`SELECT id::text FROM ${sql.table(table)}
        ORDER BY (user_id = ${userId}) IS TRUE DESC, id LIMIT 30`.execute(db)
    ).rows.map((r) => r.id);
  let id: string[] = [];
  if (route.startsWith("/api/admin/users/"))
    id = [world.callers.agent.user.id, world.callers.partner_agent.user.id, userId];
  else if (route.startsWith("/api/admin/teams/")) id = [world.teams.t1, world.teams.t2];
  else if (route.startsWith("/api/admin/partners/")) id = [world.partners.p1, world.partners.p2];
  else if (route.startsWith("/api/admin/held/"))
    // A decision on a release request: the requested ones first, whoever's they are (a security admin decides for
    // others).
    id = (
      await sql<{ id: string }>`SELECT id::text FROM held_items
        ORDER BY status = 'release_requested' DESC, id LIMIT 30`.execute(db)
    ).rows.map((r) => r.id);
  else if (route.endsWith("/request-release"))
    // Only a hold its recipient may not release is requested: the caller's phishing holds first.
    id = (
      await sql<{ id: string }>`SELECT id::text FROM held_items
        ORDER BY (user_id = ${userId} AND reason = 'phish' AND status = 'held') IS TRUE DESC, id LIMIT 30`.execute(
        db,
      )
    ).rows.map((r) => r.id);
  else if (route.includes("/held/")) id = await mineFirst("held_items");
  else if (route.startsWith("/api/admin/senders/"))
    // The organisation's list: the caller's organisation's rules first.
    id = (
      await sql<{ id: string }>`SELECT id::text FROM sender_rules
        ORDER BY (scope = 'tenant' AND tenant_id = (SELECT tenant_id FROM users WHERE id = ${userId})) DESC, id
        LIMIT 30`.execute(db)
    ).rows.map((r) => r.id);
  else if (route.includes("/senders/")) id = await mineFirst("sender_rules");
  else if (route.includes("/smtp-passwords/")) id = await mineFirst("smtp_passwords");
  else if (route.startsWith("/api/archive/"))
    id = (
      await sql<{ id: string }>`SELECT m.id::text FROM messages m
        LEFT JOIN mailbox_links l ON l.message_id = m.id AND l.user_id = ${userId}
        ORDER BY l.user_id IS NOT NULL DESC, m.received_at DESC LIMIT 30`.execute(db)
    ).rows.map((r) => r.id);
  else if (route.startsWith("/api/admin/reports/"))
    // A triage decision: the caller's organisation's reports still waiting for one first, whoever reported them (a
    // security admin triages for others).
    id = (
      await sql<{ id: string }>`SELECT r.id::text FROM reports r
        ORDER BY r.tenant_id = (SELECT tenant_id FROM users WHERE id = ${userId}) DESC, r.status = 'open' DESC,
          r.created_at DESC LIMIT 30`.execute(db)
    ).rows.map((r) => r.id);
  else if (route.includes("/reports/"))
    id = (
      await sql<{ id: string }>`SELECT id::text FROM reports
        ORDER BY (reporter_id = ${userId}) IS TRUE DESC, created_at DESC LIMIT 30`.execute(db)
    ).rows.map((r) => r.id);
  else if (route.includes("/legal-holds/"))
    id = (await db.selectFrom("legal_holds").select("id").limit(10).execute()).map((r) => r.id);
  // The newest first: the domains and aliases the fuzzer added itself, which nobody's mail depends on.
  const domains = (
    await db.selectFrom("tenant_domains").select("domain").orderBy("created_at", "desc").limit(10).execute()
  ).map((r) => r.domain);
  const addresses = (
    await db.selectFrom("user_addresses").select("address").orderBy("created_at", "desc").limit(10).execute()
  ).map((r) => r.address);
  return {
    id,
    domain: domains,
    address: addresses,
    role: [...ROLES],
    permission: [...PERMISSIONS],
    index: ["0", "1", "2"],
  };
}
