import { sql, type Insertable, type RawBuilder } from "kysely";
import type { Database } from "../../db/schema";
import { copySessionJson } from "../deliver/session";
import { jsonbSafe } from "../../db/jsonb-safe";
import { canonicalAddress, withDotAtomLocalPart } from "../scan/domains";
import { heldRuleOf, type RecipientVerdict } from "./verdicts";
import type { TenantWrite } from "./commit";

// The rows a group commit writes for its tenant copies (links, held items, deliveries), planned before the statement
// that writes them (commit.ts).

const DAY_MS = 24 * 60 * 60 * 1000;

type LinkFolder = "inbox" | "sent" | "quarantine";

/**
 * A recipient without a user of ours, whose copy goes into the mailboxes of the group's members if the address is
 * one of our groups' (the statement joins group_members; for every other address it links nobody).
 */
export interface GroupLink {
  tenantId: string;
  messageId: string;
  address: string;
  folder: LinkFolder;
  messageDate: Date | null;
}

/** The links, held items and deliveries of each write, under the message id it was given. */
export function planRows(
  items: ReadonlyArray<{ write: TenantWrite; messageId: string; messageDate: Date | null; ownRow: boolean }>,
): {
  links: Array<Insertable<Database["mailbox_links"]>>;
  groupLinks: GroupLink[];
  holds: Array<Insertable<Database["held_items"]>>;
  sends: Array<{ write: number; row: Insertable<Database["deliveries"]> }>;
  held: number[];
} {
  const links: Array<Insertable<Database["mailbox_links"]>> = [];
  const groupLinks: GroupLink[] = [];
  const holds: Array<Insertable<Database["held_items"]>> = [];
  const sends: Array<{ write: number; row: Insertable<Database["deliveries"]> }> = [];
  const held = items.map(() => 0);
  items.forEach(({ write: w, messageId, messageDate, ownRow }, index) => {
    // A copy of bytes another transaction archived carries this transaction's own facts (deliver/session.ts).
    const session = (verdict: RecipientVerdict) =>
      ownRow
        ? {}
        : {
            session: copySessionJson({
              trace: w.trace ?? null,
              sender: w.envelope.mailFrom,
              score: w.assessment.score,
              permitted: verdict.decision.rule?.kind === "permit",
              spf: w.assessment.auth.spf,
            }),
          };
    const link = (userId: string, folder: LinkFolder) =>
      links.push({
        tenant_id: w.tenantId,
        message_id: messageId,
        user_id: userId,
        folder,
        ...(messageDate ? { message_date: messageDate } : {}),
      });
    // The next hop gets each recipient's local part in the case the sender wrote it (RFC 5321 §2.4), otherwise in the
    // canonical form (dot-atom, punycode domain); `recipient` stays canonical, to match on.
    const written = new Map(
      (w.rcptAsWritten ?? w.envelope.rcptTo).map((address) => [canonicalAddress(address), address]),
    );
    const rcptTo = (canonical: string) => {
      const asWritten = written.get(canonical);
      if (!asWritten) return {};
      const local = withDotAtomLocalPart(asWritten);
      const relayed = `${local.slice(0, local.lastIndexOf("@"))}${canonical.slice(canonical.lastIndexOf("@"))}`;
      return relayed !== canonical && relayed.toLowerCase() === canonical ? { rcpt_to: relayed } : {};
    };
    // Our user's own link; for an address without one, its group's members' links (Microsoft 365 expands the group).
    const linkFor = (verdict: RecipientVerdict, folder: LinkFolder) => {
      if (verdict.userId) link(verdict.userId, folder);
      else
        groupLinks.push({
          tenantId: w.tenantId,
          messageId,
          address: verdict.address.toLowerCase(),
          folder,
          messageDate,
        });
    };
    if (w.senderUserId) link(w.senderUserId, "sent");
    const expiresAt = new Date(w.now.getTime() + w.quarantineRetentionDays * DAY_MS);
    const signals = JSON.stringify(jsonbSafe(w.assessment.signals));
    for (const verdict of w.verdicts) {
      const { action } = verdict.decision;
      if (w.mode === "archive-only") {
        linkFor(verdict, w.importFolder ?? "inbox");
      } else if (action === "hold") {
        linkFor(verdict, "quarantine");
        held[index] = (held[index] ?? 0) + 1;
        holds.push({
          tenant_id: w.tenantId,
          message_id: messageId,
          user_id: verdict.userId,
          recipient: verdict.address,
          reason: verdict.decision.reason ?? "policy",
          score: w.assessment.score,
          signals,
          expires_at: expiresAt,
          ...heldRuleOf(verdict.decision),
          ...session(verdict),
          // Its release goes out as the direct path would have: RCPT TO as written, a null sender's `<>` kept.
          ...rcptTo(verdict.address),
          ...(w.envelope.relayMailFrom !== undefined ? { mail_from: w.envelope.relayMailFrom } : {}),
        });
      } else if (action === "deliver") {
        linkFor(verdict, "inbox");
        sends.push({
          write: index,
          row: {
            tenant_id: w.tenantId,
            message_id: messageId,
            recipient: verdict.address.toLowerCase(),
            ...rcptTo(verdict.address.toLowerCase()),
            purpose: w.deliveryPurpose,
            mail_from: w.envelope.relayMailFrom ?? w.envelope.mailFrom,
            ...session(verdict),
          },
        });
      }
    }
  });
  return { links, groupLinks, holds, sends, held };
}

/** The CTE that links group mail to the members of each group addressed (none for an address that is no group's). */
export function groupLinksCte(groupLinks: readonly GroupLink[]): RawBuilder<unknown> {
  const values = sql.join(
    groupLinks.map(
      (g) =>
        sql`(${g.tenantId}::uuid, ${g.messageId}::uuid, ${g.address}::text, ${g.folder}::text, ${g.messageDate}::timestamptz)`,
    ),
  );
  return sql`written_group_links AS (INSERT INTO mailbox_links (tenant_id, message_id, user_id, folder, message_date)
    SELECT v.tenant_id, v.message_id, gm.user_id, v.folder, v.message_date
    FROM (VALUES ${values}) AS v(tenant_id, message_id, address, folder, message_date)
    JOIN group_addresses ga ON ga.address = v.address AND ga.tenant_id = v.tenant_id
    JOIN group_members gm ON gm.tenant_id = ga.tenant_id AND gm.group_oid = ga.group_oid
    ON CONFLICT (message_id, user_id, folder) DO NOTHING)`;
}
