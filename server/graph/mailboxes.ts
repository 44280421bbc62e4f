import type { Selectable } from "kysely";
import type { Services } from "../context";
import type { GraphMailboxesTable } from "../db/schema";
import { describeError, isNotFound } from "./errors";
import type { GraphConnection } from "./connection";

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
 * up by address (`GET /users/{address}`, User.Read.All); found ones get a row,
 * watched (subscriptions, delta, holds) when the tenant is in graph or both mode and
 * used only for mailbox actions (junk, block sweep) in gateway mode. Addresses Graph
 * does not know are retried after an hour. Returns how many rows were added.
 */
export class MailboxDirectory {
  private readonly misses = new Map<string, number>();

  constructor(
    private readonly services: Services,
    private readonly connection: GraphConnection,
  ) {}

  /** One enrolment pass over every tenant. */
  async enrol(): Promise<number> {
    const { db } = this.services;
    const allow = this.connection.settings.mailboxAllowList;
    const tenants = await db.selectFrom("tenants").select(["id", "mode", "entra_tenant_id"]).execute();
    let added = 0;
    for (const tenant of tenants) {
      const monitored = watchesMailboxes(tenant.mode);
      const directoryId = (tenant.entra_tenant_id ?? this.connection.settings.directoryId).toLowerCase();
      await db
        .updateTable("graph_mailboxes")
        .set({ monitored })
        .where("tenant_id", "=", tenant.id)
        .where("monitored", "!=", monitored)
        .execute();
      const users = await db
        .selectFrom("users")
        .leftJoin("graph_mailboxes", "graph_mailboxes.user_id", "users.id")
        .select(["users.id", "users.email"])
        .where("users.tenant_id", "=", tenant.id)
        .where("users.disabled_at", "is", null)
        .where("graph_mailboxes.id", "is", null)
        .execute();
      for (const user of users) {
        const address = user.email.toLowerCase();
        if (allow.size > 0 && !allow.has(address)) continue;
        const missedAt = this.misses.get(address);
        if (missedAt !== undefined && Date.now() - missedAt < MISS_RETRY_MS) continue;
        const found = await this.lookup(directoryId, address);
        if (!found) {
          this.misses.set(address, Date.now());
          continue;
        }
        const inserted = await db
          .insertInto("graph_mailboxes")
          .values({
            tenant_id: tenant.id,
            user_id: user.id,
            graph_user_id: found.id,
            address,
            directory_id: directoryId,
            monitored,
          })
          .onConflict((oc) => oc.columns(["tenant_id", "graph_user_id"]).doNothing())
          .returning("id")
          .executeTakeFirst();
        if (inserted) {
          added += 1;
          this.services.logger.info({ mailbox: inserted.id, address, monitored }, "graph mailbox enrolled");
        }
      }
    }
    return added;
  }

  private async lookup(directoryId: string, address: string): Promise<GraphUser | null> {
    try {
      return await this.connection.api(directoryId).get<GraphUser>(`/users/${encodeURIComponent(address)}`, {
        query: { $select: "id,mail,userPrincipalName" },
      });
    } catch (error) {
      if (!isNotFound(error))
        this.services.logger.warn({ address, error: describeError(error) }, "graph user lookup failed");
      return null;
    }
  }
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
