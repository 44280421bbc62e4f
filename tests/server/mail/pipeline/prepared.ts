import type { Kysely } from "kysely";
import type { Database } from "../../../../server/db/schema";
import { createOfflineResolver } from "../../../../server/mail/scan/index";
import { InlineAnalyzer, TenantScanners } from "../../../../server/mail/pipeline/analyze";
import { TenantDirectory } from "../../../../server/mail/pipeline/directory";
import type { PreparedMessage } from "../../../../server/mail/pipeline/commit-batch";

/** A message parsed and assessed for one tenant's recipients, as the gateway hands it to the group commit. */
export async function preparedMessage(
  db: Kysely<Database>,
  input: {
    tenantId: string;
    raw: Buffer;
    from: string;
    recipients: Array<{ address: string; userId: string | null }>;
  },
): Promise<PreparedMessage> {
  const { tenantId, raw, from, recipients } = input;
  const directory = new TenantDirectory(db);
  const analyzer = new InlineAnalyzer(new TenantScanners({}, createOfflineResolver(), () => undefined));
  const profile = await directory.profile(tenantId);
  const rcptTo = recipients.map((r) => r.address);
  const analysis = await analyzer.analyze({
    raw,
    envelope: { mailFrom: from, rcptTo, clientIp: "192.0.2.7", helo: "h" },
    tenantId,
    tenant: profile.context,
  });
  return {
    raw,
    fields: analysis.fields,
    envelope: { mailFrom: from, rcptTo, direction: "inbound", source: "smtp", receivedAt: new Date() },
    batches: [{ tenantId, profile, assessment: analysis.assessment, recipients }],
    sender: null,
    archiveOnly: null,
    scannerName: "builtin",
  };
}
