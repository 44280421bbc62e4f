import { auditActor, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { graphOf } from "../../graph/runtime";
import { lastDirectoryRound } from "../../graph/directory-report";
import type { GraphStatus, TenantMode } from "../../../shared/schemas/graph";

/**
 * Switches the actor's tenant between gateway, Graph and both (audited with the
 * previous mode). The connector's sweep is woken so that watching starts (or
 * stops) at once rather than at the next interval.
 */
export async function setTenantMode(
  services: Services,
  actor: Actor,
  ip: string | null,
  mode: TenantMode,
): Promise<TenantMode> {
  await runCommand(services, actor, ip, async ({ trx, now }) => {
    const before = await trx
      .selectFrom("tenants")
      .select("mode")
      .where("id", "=", actor.tenantId)
      // Not FOR UPDATE, which also holds off the foreign key check of each row naming the organisation: a change
      // holding the audit log while its event waited for that check deadlocked with this one (lockPeopleChanges).
      .forNoKeyUpdate()
      .executeTakeFirstOrThrow();
    if (before.mode === mode) return;
    await trx.updateTable("tenants").set({ mode }).where("id", "=", actor.tenantId).execute();
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      ...auditActor(actor),
      action: "admin.graph.mode_changed",
      targetType: "tenant",
      targetId: actor.tenantId,
      details: { before: before.mode, after: mode },
      ip,
      at: now,
    });
  });
  graphOf(services)?.jobs()?.sweep.wake();
  return mode;
}

/** The tenant's connector status for admins: mode, mailboxes and their subscriptions, backlog. */
export async function graphStatusOf(services: Services, actor: Actor): Promise<GraphStatus> {
  const tenant = await services.db
    .selectFrom("tenants")
    .select("mode")
    .where("id", "=", actor.tenantId)
    .executeTakeFirstOrThrow();
  const mailboxes = await services.db
    .selectFrom("graph_mailboxes")
    .select(["id", "address", "monitored", "quarantine_folder_id", "synced_at"])
    .where("tenant_id", "=", actor.tenantId)
    .where("disabled_at", "is", null)
    .orderBy("address")
    .execute();
  const subscriptions = await services.db
    .selectFrom("graph_subscriptions")
    .select(["mailbox_id", "folder", "expires_at"])
    .where("tenant_id", "=", actor.tenantId)
    .execute();
  const count = async (table: "graph_notifications" | "graph_actions", states: string[]) =>
    (
      await services.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("tenant_id", "=", actor.tenantId)
        .where("state", "in", states as never[])
        .executeTakeFirstOrThrow()
    ).n;
  const runtime = graphOf(services);
  const groups = await services.db
    .selectFrom("group_addresses")
    .select(["address", "display_name"])
    .where("tenant_id", "=", actor.tenantId)
    .orderBy("address")
    .execute();
  const last = await lastDirectoryRound(services.db, actor.tenantId);
  return {
    mode: tenant.mode,
    configured: runtime !== null,
    notificationUrl: runtime ? runtime.webhookUrls().notificationUrl : null,
    mailboxes: mailboxes.map((m) => ({
      address: m.address,
      monitored: m.monitored,
      quarantineFolder: m.quarantine_folder_id !== null,
      syncedAt: m.synced_at ? new Date(m.synced_at).toISOString() : null,
      subscriptions: subscriptions
        .filter((s) => s.mailbox_id === m.id)
        .map((s) => ({ folder: s.folder, expiresAt: new Date(s.expires_at).toISOString() })),
    })),
    backlog: {
      notifications: Number(await count("graph_notifications", ["pending", "processing"])),
      actions: Number(await count("graph_actions", ["pending", "processing"])),
      failedActions: Number(await count("graph_actions", ["failed"])),
    },
    directory: {
      sync: Boolean(runtime?.directory),
      lastRound: last && {
        at: last.at.toISOString(),
        listed: last.report.listed,
        created: last.report.created,
        linked: last.report.linked,
        updated: last.report.updated,
        aliasesAdded: last.report.aliasesAdded,
        aliasesRemoved: last.report.aliasesRemoved,
        disabled: last.report.disabled,
        markedLeft: last.report.markedLeft,
        leaversWithheld: last.report.leaversWithheld,
        groupAddressesAdded: last.report.groupAddressesAdded,
        groupAddressesRemoved: last.report.groupAddressesRemoved,
        groupMembersAdded: last.report.groupMembersAdded,
        groupMembersRemoved: last.report.groupMembersRemoved,
        failed: last.report.failedTenants > 0,
        conflicts: last.report.conflicts,
      },
      groups: groups.map((g) => ({ address: g.address, displayName: g.display_name })),
    },
  };
}
