import { runCommand, type Services } from "../../context";
import { systemActor } from "../../auth/actor";
import { cutOffAccess } from "./cut-off";
import { otherActiveTenantAdmins } from "./queries";
import { auditDirectoryChange } from "./directory-audit";

/**
 * The most accounts one round may disable: 5, or a tenth of the organisation's active Entra-linked accounts if
 * more. A listing that suddenly lacks more people than that is more likely a fault (a filtered or truncated
 * directory, the wrong tenant) than a wave of leavers, so nobody is disabled and IT is told (like Entra Connect's
 * accidental-deletion threshold).
 */
export function leaverThreshold(activeLinked: number): number {
  return Math.max(5, Math.ceil(activeLinked / 10));
}

/** What a leavers pass did: accounts disabled, and accounts it left enabled (with why). */
export interface DirectoryLeaversOutcome {
  disabled: number;
  /** Accounts an admin had disabled already, now marked as gone from the directory too (their mail is refused). */
  markedLeft: number;
  /** Over the threshold (every leaver kept), or the organisation's last tenant admin. */
  withheld: number;
  aliasesRemoved: number;
}

/**
 * Disables the accounts of people who left the directory: linked to an Entra object id that a complete listing no
 * longer has. Each leaver's sessions end, their SMTP passwords are revoked (a device must not keep sending as
 * someone who left) and their aliases from the directory are removed, in one transaction with the audit event
 * (`user.disabled`, `source: directory_sync`). An account an admin had disabled before its person left is marked as
 * left (`user.left_directory`): its mailbox is gone too, so the gateway refuses its mail instead of relaying it to be
 * bounced. Their archive stays. A person an admin disabled stays so, and the sync never re-enables anyone.
 */
export async function disableDirectoryLeavers(
  services: Services,
  tenantId: string,
  listedOids: ReadonlySet<string>,
): Promise<DirectoryLeaversOutcome> {
  const actor = systemActor(tenantId, "directory-sync");
  return runCommand(services, actor, null, async ({ trx, now }) => {
    const accounts = await trx
      .selectFrom("users")
      .select(["id", "email", "entra_oid", "disabled_at"])
      .where("tenant_id", "=", tenantId)
      .where("entra_oid", "is not", null)
      .where("left_directory_at", "is", null)
      .execute();
    const gone = accounts.filter((u) => u.entra_oid !== null && !listedOids.has(u.entra_oid));
    const activeLinked = accounts.filter((u) => u.disabled_at === null).length;
    const outcome: DirectoryLeaversOutcome = { disabled: 0, markedLeft: 0, withheld: 0, aliasesRemoved: 0 };
    if (gone.length > leaverThreshold(activeLinked)) {
      outcome.withheld = gone.length;
      return outcome;
    }
    const removeDirectoryAliases = async (userId: string) => {
      const aliases = await trx
        .deleteFrom("user_addresses")
        .where("user_id", "=", userId)
        .where("source", "=", "directory")
        .executeTakeFirst();
      outcome.aliasesRemoved += Number(aliases.numDeletedRows);
    };
    for (const leaver of gone) {
      if (leaver.disabled_at !== null) {
        await trx
          .updateTable("users")
          // Left the directory: no longer a partner admin's to enable again, whoever disabled it.
          .set({ left_directory_at: now, disabled_by_partner_admin: false, updated_at: now })
          .where("id", "=", leaver.id)
          .execute();
        await removeDirectoryAliases(leaver.id);
        await auditDirectoryChange(trx, actor, now, {
          action: "user.left_directory",
          targetType: "user",
          targetId: leaver.id,
          details: { email: leaver.email, reason: "not_in_directory" },
        });
        outcome.markedLeft += 1;
        continue;
      }
      const admin = await trx
        .selectFrom("role_assignments")
        .select("id")
        .where("user_id", "=", leaver.id)
        .where("role", "=", "tenant_admin")
        .executeTakeFirst();
      if (admin && (await otherActiveTenantAdmins(trx, tenantId, leaver.id)) === 0) {
        outcome.withheld += 1;
        continue;
      }
      await trx
        .updateTable("users")
        .set({ disabled_at: now, left_directory_at: now, updated_at: now })
        .where("id", "=", leaver.id)
        .execute();
      const cutOff = await cutOffAccess(trx, leaver.id, now);
      await removeDirectoryAliases(leaver.id);
      await auditDirectoryChange(trx, actor, now, {
        action: "user.disabled",
        targetType: "user",
        targetId: leaver.id,
        details: { email: leaver.email, ...cutOff, reason: "not_in_directory" },
      });
      outcome.disabled += 1;
    }
    return outcome;
  });
}
