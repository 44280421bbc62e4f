import { sql, type Selectable } from "kysely";
import type { Services } from "../context";
import { appendAudit } from "../audit/log";
import type { GraphMailboxesTable } from "../db/schema";
import { describeError, isNotFound } from "./errors";
import type { GraphConnection } from "./connection";
import { directoryFor } from "./tenant-directory";

/** A monitored (or acted-on) mailbox row. */
export type GraphMailbox = Selectable<GraphMailboxesTable>;

/** The tenant modes (tenants.mode): the gateway only, Graph only, or both at once. */
export type TenantMode = "gateway" | "graph" | "both";

/** Whether Mailward watches a tenant's mailboxes through Graph (subscriptions, delta) in this mode. */
export function watchesMailboxes(mode: string): boolean {
  return mode === "graph" || mode === "both";
}

const MISS_RETRY_MS = 60 * 60 * 1000;

interface GraphUser {
  id: string;
  mail?: string | null;
  userPrincipalName?: string;
}

/**
 * Enrols the people of every tenant as Graph mailboxes: each active user is looked
 * up (by Entra object id, else by address; User.Read.All) in the tenant's own directory
 * (`directoryFor`: its Entra mapping, or the configured one for the first tenant); found ones get a row,
 * watched (subscriptions, delta, holds) when the tenant is in graph or both mode and
 * used only for mailbox actions (junk, block sweep) in gateway mode. Addresses Graph
 * does not know are retried after an hour. A tenant without a directory of its own enrols nobody, and a
 * mailbox enrolled from a directory that is no longer its tenant's is retired (`retireForeignMailboxes`).
 */
export class MailboxDirectory {
  private readonly misses = new Map<string, number>();

  constructor(
    private readonly services: Services,
    private readonly connection: GraphConnection,
  ) {}

  /** One enrolment pass over every tenant; returns how many mailboxes were added (or enrolled again). */
  async enrol(): Promise<number> {
    const { db } = this.services;
    const tenants = await db
      .selectFrom("tenants")
      .select(["id", "mode", "entra_tenant_id"])
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    let added = 0;
    for (const [index, tenant] of tenants.entries()) {
      const directoryId =
        directoryFor(tenant, index === 0, this.connection.settings.directoryId)?.toLowerCase() ?? null;
      await retireForeignMailboxes(this.services, tenant.id, directoryId);
      if (directoryId === null) continue;
      const monitored = watchesMailboxes(tenant.mode);
      // Watched again (back from gateway mode): the catch-up starts over from now, less its lookback, and mail
      // received before now is old mail (created_at, predatesEnrolment). The stored delta links (and last syncs, and
      // the first enrolment) date from before: they would list everything the gateway delivered meanwhile (at once,
      // or when it is read later), to be scanned, archived and maybe held a second time.
      await db
        .updateTable("graph_mailboxes")
        .set(
          monitored
            ? {
                monitored,
                created_at: sql<Date>`now()`,
                delta_links: "{}",
                folder_synced_at: "{}",
                synced_at: sql<Date>`now()`,
              }
            : { monitored },
        )
        .where("tenant_id", "=", tenant.id)
        .where("disabled_at", "is", null)
        .where("monitored", "!=", monitored)
        .execute();
      added += await this.enrolTenant(tenant.id, directoryId, monitored);
    }
    return added;
  }

  private async enrolTenant(tenantId: string, directoryId: string, monitored: boolean): Promise<number> {
    const { db } = this.services;
    const allow = this.connection.settings.mailboxAllowList;
    const users = await db
      .selectFrom("users")
      .leftJoin("graph_mailboxes", (join) =>
        join.onRef("graph_mailboxes.user_id", "=", "users.id").on("graph_mailboxes.disabled_at", "is", null),
      )
      .select(["users.id", "users.email", "users.entra_oid"])
      .where("users.tenant_id", "=", tenantId)
      .where("users.disabled_at", "is", null)
      .where("graph_mailboxes.id", "is", null)
      .execute();
    let added = 0;
    for (const user of users) {
      const address = user.email.toLowerCase();
      if (allow.size > 0 && !allow.has(address)) continue;
      const missKey = `${directoryId}\n${address}`;
      const missedAt = this.misses.get(missKey);
      if (missedAt !== undefined && Date.now() - missedAt < MISS_RETRY_MS) continue;
      // A directory user without mail (unlicensed, a service account) has no mailbox to watch or act in.
      const found = await this.lookup(directoryId, user);
      if (!found?.mail) {
        this.misses.set(missKey, Date.now());
        continue;
      }
      const row = { user_id: user.id, address, directory_id: directoryId, monitored };
      // A mailbox retired earlier (its tenant's directory changed, and changed back) is enrolled again, and watched
      // from now on like a new one: its delta links and last syncs (and the enrolment time that tells new mail from
      // old) date from before, and would have the mail that reached it while retired scanned, held and moved.
      const inserted = await db
        .insertInto("graph_mailboxes")
        .values({ tenant_id: tenantId, graph_user_id: found.id, ...row })
        .onConflict((oc) =>
          oc
            .columns(["tenant_id", "graph_user_id"])
            .doUpdateSet({
              ...row,
              disabled_at: null,
              created_at: sql<Date>`now()`,
              delta_links: "{}",
              folder_synced_at: "{}",
              synced_at: sql<Date>`now()`,
            })
            .where("graph_mailboxes.disabled_at", "is not", null),
        )
        .returning("id")
        .executeTakeFirst();
      if (inserted) {
        added += 1;
        this.services.logger.info({ mailbox: inserted.id, address, monitored }, "graph mailbox enrolled");
      }
    }
    return added;
  }

  /**
   * The directory's user behind one of our people: by Entra object id when the account is linked (by sign-in or the
   * directory sync), else by address. `GET /users/{x}` takes an id or a userPrincipalName only, so an address that is
   * not the person's sign-in name is looked up by primary SMTP address (`mail`); two users with one address (a
   * migration's leftover) enrol neither.
   */
  private async lookup(
    directoryId: string,
    user: { email: string; entra_oid: string | null },
  ): Promise<GraphUser | null> {
    const api = this.connection.api(directoryId);
    const address = user.email.toLowerCase();
    const query = { $select: "id,mail,userPrincipalName" };
    try {
      if (user.entra_oid)
        return await api.get<GraphUser>(`/users/${encodeURIComponent(user.entra_oid)}`, { query });
      try {
        return await api.get<GraphUser>(`/users/${encodeURIComponent(address)}`, { query });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      const { items } = await api.collect<GraphUser>(
        "/users",
        { query: { ...query, $filter: `mail eq '${address.replaceAll("'", "''")}'`, $top: "2" } },
        2,
      );
      if (items.length > 1)
        this.services.logger.warn(
          { address },
          "two directory users have this address; its mailbox is not enrolled",
        );
      return items.length === 1 ? (items[0] ?? null) : null;
    } catch (error) {
      if (!isNotFound(error))
        this.services.logger.warn({ address, error: describeError(error) }, "graph user lookup failed");
      return null;
    }
  }
}

/**
 * Retires a tenant's mailboxes that were enrolled from a directory other than its own (`directoryId`, null when it
 * has none): Mailward must not watch, hold or move mail in another organisation's mailboxes. Each is disabled and
 * unwatched, audited as graph.mailbox_retired (by `system:graph-enrolment`) in the same transaction; the sweep
 * then deletes its subscriptions (`retiredWithSubscriptions`). Returns the retired rows.
 */
export async function retireForeignMailboxes(
  services: Services,
  tenantId: string,
  directoryId: string | null,
): Promise<GraphMailbox[]> {
  const retired = await services.db.transaction().execute(async (trx) => {
    let query = trx
      .updateTable("graph_mailboxes")
      .set({ disabled_at: services.now(), monitored: false })
      .where("tenant_id", "=", tenantId)
      .where("disabled_at", "is", null);
    if (directoryId !== null) query = query.where("directory_id", "!=", directoryId);
    const rows = await query.returningAll().execute();
    for (const row of rows)
      await appendAudit(trx, {
        tenantId,
        actorId: null,
        actorLabel: "system:graph-enrolment",
        action: "graph.mailbox_retired",
        targetType: "graph_mailbox",
        targetId: row.id,
        details: { address: row.address, enrolledFrom: row.directory_id, tenantDirectory: directoryId },
      });
    return rows;
  });
  for (const row of retired)
    services.logger.warn(
      { mailbox: row.id, address: row.address, enrolledFrom: row.directory_id, tenantDirectory: directoryId },
      "graph mailbox retired: it was enrolled from a directory that is not its organisation's",
    );
  return retired;
}

/** Retired (disabled) mailboxes whose Graph subscriptions are still on record: the sweep deletes them. */
export async function retiredWithSubscriptions(services: Services): Promise<GraphMailbox[]> {
  return services.db
    .selectFrom("graph_mailboxes")
    .selectAll()
    .where("disabled_at", "is not", null)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom("graph_subscriptions")
          .select("graph_subscriptions.id")
          .whereRef("graph_subscriptions.mailbox_id", "=", "graph_mailboxes.id"),
      ),
    )
    .execute();
}

/** Every enrolled, enabled mailbox (monitored ones only when asked). */
export async function listMailboxes(
  services: Services,
  options: { monitoredOnly?: boolean } = {},
): Promise<GraphMailbox[]> {
  let query = services.db.selectFrom("graph_mailboxes").selectAll().where("disabled_at", "is", null);
  if (options.monitoredOnly) query = query.where("monitored", "=", true);
  return query.orderBy("created_at").execute();
}

/** One mailbox by id. */
export async function loadMailbox(services: Services, id: string): Promise<GraphMailbox | undefined> {
  return services.db.selectFrom("graph_mailboxes").selectAll().where("id", "=", id).executeTakeFirst();
}
