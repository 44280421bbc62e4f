import type { Kysely, Transaction } from "kysely";
import type { Database } from "../../db/schema";
import type { ArchiveFields } from "../../archive/parse";
import { archivedIds, sha256Of, type ArchiveEnvelope } from "../../archive/store";
import type { Assessment } from "../scan/types";
import type { MessageTrace } from "../deliver/trace";
import { STATEMENT_PARAMETERS, writeTenantCopies, type TenantWrite } from "./commit";
import type { TenantProfile } from "./directory";
import { loadSenderRules, type LoadedSenderRules } from "./rules";
import { assessmentRecord, decideRecipients, settleRejections, type RecipientVerdict } from "./verdicts";

/** One tenant's share of a message: its profile, the scanner's assessment, and its recipients. */
export interface TenantBatch {
  tenantId: string;
  profile: TenantProfile;
  assessment: Assessment;
  recipients: Array<{ address: string; userId: string | null }>;
}

/** A message parsed and assessed, waiting for the transaction that decides and writes it. */
export interface PreparedMessage {
  raw: Buffer;
  fields: ArchiveFields;
  envelope: ArchiveEnvelope;
  batches: TenantBatch[];
  /** Our user who submitted it with SMTP AUTH (their tenant and id), or null for inbound mail. */
  sender: { tenantId: string; userId: string } | null;
  archiveOnly: { folder: "inbox" | "sent" } | null;
  scannerName: string;
  /** The SMTP session it came in on, for the trace fields of every relay of it (null: not from our SMTP gateway). */
  trace?: MessageTrace | null;
}

/** What one message's commit decided: for the gateway's reply and the metrics. */
export interface CommittedMessage {
  rejectAll: boolean;
  messageIds: string[];
  created: boolean;
  queued: number;
  held: number;
  explanation: string;
}

/**
 * An upper bound of the bind parameters a message adds to its group commit's statement: the gateway's
 * GroupCommit weighs messages by it, so a batch of many-recipient messages never exceeds PostgreSQL's
 * limit (which would fail the batch and commit its messages one at a time).
 */
export function commitParameters(message: PreparedMessage): number {
  return message.batches.reduce(
    (sum, batch) =>
      sum + STATEMENT_PARAMETERS.perCopy + STATEMENT_PARAMETERS.perRecipient * batch.recipients.length,
    0,
  );
}

/** Sender rules per tenant for every user in the batch, one query per tenant (a superset per message is fine: rules are looked up by user). */
async function rulesForBatch(
  db: Kysely<Database> | Transaction<Database>,
  messages: readonly PreparedMessage[],
  now: Date,
): Promise<Map<string, LoadedSenderRules>> {
  const usersByTenant = new Map<string, Set<string>>();
  for (const message of messages) {
    for (const batch of message.batches) {
      const users = usersByTenant.get(batch.tenantId) ?? new Set<string>();
      for (const r of batch.recipients) if (r.userId) users.add(r.userId);
      usersByTenant.set(batch.tenantId, users);
    }
  }
  const rules = new Map<string, LoadedSenderRules>();
  for (const [tenantId, users] of usersByTenant) {
    rules.set(tenantId, await loadSenderRules(db, tenantId, [...users], now));
  }
  return rules;
}

/**
 * Decides every recipient of every message under the sender rules as they are now (read just
 * before the write), then writes all tenant copies (archive, links, held items, deliveries) in one
 * atomic statement (writeTenantCopies). Returns one result per message, in order. Works inside a
 * caller's transaction too; the gateway needs none.
 *
 * The rules and the copies already archived are read at once, on two connections of the pool: the
 * statement then waits for one round trip before it instead of two (a group commit of the bench's
 * took 10.5–10.9 ms at p50 instead of 12.2–12.9; BENCHMARKS.md, "Ingest"). Inside a transaction the
 * two reads take turns on its connection.
 */
export async function commitPrepared(
  db: Kysely<Database> | Transaction<Database>,
  messages: readonly PreparedMessage[],
  now: Date,
): Promise<CommittedMessage[]> {
  const hashed = messages.map((message) => ({ message, sha256: sha256Of(message.raw) }));
  const [rulesByTenant, archived] = await Promise.all([
    rulesForBatch(db, messages, now),
    archivedIds(
      db,
      hashed.flatMap(({ message, sha256 }) =>
        message.batches.map((batch) => ({ tenantId: batch.tenantId, sha256 })),
      ),
    ),
  ]);
  const writes: TenantWrite[] = [];
  const owners: number[] = [];
  const settledOf = hashed.map(({ message, sha256 }, index) => {
    const decided = message.batches.map((batch) => ({
      batch,
      verdicts: decideRecipients({
        assessment: batch.assessment,
        profile: batch.profile,
        rules: rulesByTenant.get(batch.tenantId) ?? { org: [], personal: new Map() },
        recipients: batch.recipients,
        submittedByUser: message.sender !== null,
        now,
      }),
    }));
    const settled = settleRejections(decided.flatMap((d) => d.verdicts));
    const settledFor = (address: string) => settled.verdicts.find((v) => v.address === address);
    for (const { batch, verdicts } of decided) {
      const final: RecipientVerdict[] = verdicts.map((v) => settledFor(v.address) ?? v);
      writes.push({
        tenantId: batch.tenantId,
        raw: message.raw,
        sha256,
        fields: message.fields,
        // An inbound transaction's RCPTs may span tenants (and include their Bcc): each tenant's copy
        // records only its own recipients. A user's submission is one copy with every recipient.
        envelope: message.sender
          ? message.envelope
          : { ...message.envelope, rcptTo: batch.recipients.map((r) => r.address) },
        rcptAsWritten: message.envelope.rcptTo,
        trace: message.trace ?? null,
        assessment: batch.assessment,
        record: assessmentRecord(batch.assessment, final, {
          scanner: message.scannerName,
          scannedAt: message.envelope.receivedAt,
          mode: message.archiveOnly ? "import" : "relay",
        }),
        verdicts: final,
        senderUserId: message.sender?.tenantId === batch.tenantId ? message.sender.userId : null,
        mode: message.archiveOnly ? "archive-only" : "relay",
        ...(message.archiveOnly ? { importFolder: message.archiveOnly.folder } : {}),
        quarantineRetentionDays: batch.profile.quarantineRetentionDays,
        deliveryPurpose: message.sender ? "outbound" : "inbound",
        now,
      });
      owners.push(index);
    }
    return settled;
  });
  const results = await writeTenantCopies(db, writes, archived);
  return messages.map((message, index) => {
    const mine = results.filter((_, w) => owners[w] === index);
    const settled = settledOf[index];
    return {
      rejectAll: (settled?.rejectAll ?? false) && !message.archiveOnly,
      messageIds: mine.map((r) => r.messageId),
      created: mine.some((r) => r.created),
      queued: mine.reduce((sum, r) => sum + r.queued, 0),
      held: mine.reduce((sum, r) => sum + r.held, 0),
      explanation: settled?.verdicts[0]?.decision.explanation ?? "",
    };
  });
}
