import fs from "node:fs";
import path from "node:path";
import { auditActor, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { messagesIn } from "../../archive/mail-source";
import { archivedIds, linkMailbox, sha256Of } from "../../archive/store";
import { ApiError } from "../../http/errors";
import { MailPipeline } from "../../mail/pipeline/index";
import { originatorFields } from "../../mail/pipeline/send-as";
import { createOfflineResolver } from "../../mail/scan/index";
import { canonicalAddress } from "../../mail/scan/domains";
import { userByEmail } from "../users/queries";

/** Counts of an import run. */
export interface ImportResult {
  imported: number;
  duplicates: number;
  failed: number;
}

/**
 * Files an mbox or a folder of .eml into one user's archive through the same
 * pipeline as SMTP (parse, verdict, archive), without sending or holding
 * anything: messages the user sent go to "sent", the rest to "inbox", and each
 * keeps the verdict it would have had. DNS is not consulted (historical mail:
 * rotated DKIM keys, no connecting IP). Re-importing is idempotent, also for
 * an mbox imported before its reader dropped the blank line that ends each message.
 */
export async function importMail(
  services: Services,
  actor: Actor,
  source: string,
  mailbox: string,
  reportFailure: (where: string, reason: string) => void = () => {},
): Promise<ImportResult> {
  const owner = await userByEmail(services.db, actor.tenantId, mailbox);
  if (!owner) throw new ApiError("not_found", `There is no user ${mailbox}.`);
  // Mail they sent from another of their addresses (an alias) is theirs too.
  const aliases = await services.db
    .selectFrom("user_addresses")
    .select("address")
    .where("user_id", "=", owner.id)
    .execute();
  const ownAddresses = new Set([owner.email, ...aliases.map((a) => a.address)].map(canonicalAddress));
  const pipeline = new MailPipeline(services, { resolver: createOfflineResolver() });
  const result: ImportResult = { imported: 0, duplicates: 0, failed: 0 };
  let read = 0;
  // What the gateway accepts (MAILWARD_SMTP_MAX_SIZE) is what an import files: a bigger message of an mbox is named
  // as not imported, and never held in memory whole.
  for await (const message of messagesIn(source, services.config.MAILWARD_SMTP_MAX_SIZE)) {
    read += 1;
    const { where } = message;
    try {
      if (message.raw === null) throw new Error(`unreadable: ${message.unreadable}`);
      const { raw, earlierForm } = message;
      // The From field's addresses, read from the header block alone: the pipeline parses the whole message anyway.
      const sentByOwner = originatorFields(raw).from.some((field) =>
        field.some((address) => ownAddresses.has(canonicalAddress(address))),
      );
      // Filed already as a reader before 2026-11-30 took it from an mbox (with the blank line that ended it there)?
      // Then that copy is the message: filed in this mailbox too (maybe it was imported for someone else), not again.
      const earlier = earlierForm ? [{ tenantId: actor.tenantId, sha256: sha256Of(earlierForm) }] : [];
      const [earlierId] = (await archivedIds(services.db, earlier)).values();
      if (earlierId) {
        await linkMailbox(services.db, {
          tenantId: actor.tenantId,
          messageId: earlierId,
          userId: owner.id,
          folder: sentByOwner ? "sent" : "inbox",
        });
        result.duplicates += 1;
        continue;
      }
      const outcome = await pipeline.process({
        raw,
        source: "import",
        envelope: { mailFrom: "", rcptTo: [owner.email], clientIp: "", helo: "", sender: null },
        archiveOnly: {
          folder: sentByOwner ? "sent" : "inbox",
          direction: sentByOwner ? "outbound" : "inbound",
          owner: { tenantId: actor.tenantId, userId: owner.id, address: owner.email.toLowerCase() },
        },
      });
      if (outcome.kind !== "accepted") throw new Error(`not filed: ${outcome.message}`);
      if (outcome.created) result.imported += 1;
      else result.duplicates += 1;
    } catch (err) {
      result.failed += 1;
      const reason = (err as Error).message;
      services.logger.warn({ where, err: { message: reason } }, "import: a message could not be filed");
      reportFailure(where, reason);
    }
  }
  // A folder without one .eml (the wrong folder, or mail saved as .msg) imported nothing and said only "0 imported".
  // An empty mbox stays an empty mailbox, not an error. Nothing was filed, so there is nothing to audit.
  if (read === 0 && (await fs.promises.stat(source)).isDirectory())
    throw new ApiError(
      "import_source_empty",
      `${source} holds no .eml files (subfolders included), so nothing was imported: point the import at a folder of .eml files or at an mbox file.`,
    );
  await services.db.transaction().execute((trx) =>
    appendAudit(trx, {
      tenantId: actor.tenantId,
      ...auditActor(actor),
      action: "archive.imported",
      targetType: "user",
      targetId: owner.id,
      details: { source: path.basename(source), ...result },
      at: services.now(),
    }),
  );
  return result;
}
