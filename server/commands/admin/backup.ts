import { auditActor, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { BackupError, backUpEmbeddedDatabase, type OnlineBackup } from "../../db/online-backup";

/**
 * Backs up the embedded database while Mailward keeps taking mail (`npm run mailward -- backup <folder>`): the whole
 * archive, quarantine, policy and audit log as a folder that opens as MAILWARD_DATA_DIR's `pglite`. Audited as
 * `database.backed_up` once the copy is complete (a copy of the whole archive is worth a line in the log), after
 * it, so the event is not in the backup it describes. The server key is not copied: it is backed up apart (README).
 */
export async function backUpDatabase(
  services: Services,
  actor: Actor,
  folder: string,
): Promise<OnlineBackup> {
  if (services.engine !== "pglite" || !services.pgliteFolder) throw new ApiError("backup_not_embedded");
  let backup: OnlineBackup;
  try {
    backup = await backUpEmbeddedDatabase(
      services.db,
      services.pgliteFolder,
      folder,
      `mailward ${services.now().toISOString()}`,
    );
  } catch (err) {
    if (err instanceof BackupError)
      throw new ApiError(
        err.reason === "target_not_empty" ? "backup_folder_not_empty" : "backup_failed",
        err.message,
      );
    throw err;
  }
  await runCommand(services, actor, null, async ({ trx, now }) => {
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      ...auditActor(actor),
      action: "database.backed_up",
      targetType: "database",
      targetId: null,
      details: {
        folder: backup.folder,
        files: backup.files,
        bytes: backup.bytes,
        startLsn: backup.startLsn,
        stopLsn: backup.stopLsn,
      },
      ip: null,
      at: now,
    });
  });
  return backup;
}
