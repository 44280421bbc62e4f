import type { Kysely } from "kysely";
import type { Database } from "../db/schema";

/** What one sync round did, over every tenant it reached. */
export interface DirectorySyncReport {
  listed: number;
  created: number;
  linked: number;
  updated: number;
  aliasesAdded: number;
  aliasesRemoved: number;
  /** Accounts of people who left the directory, disabled; and leavers kept enabled (over the threshold, last admin). */
  disabled: number;
  /** Accounts an admin had disabled already whose person left the directory, marked so (their mail is refused). */
  markedLeft: number;
  leaversWithheld: number;
  /** Addresses of mail-enabled groups (distribution lists, Microsoft 365 groups) added and removed. */
  groupAddressesAdded: number;
  groupAddressesRemoved: number;
  /** People (with an account) added to and removed from groups' members (transitive, from Entra). */
  groupMembersAdded: number;
  groupMembersRemoved: number;
  /** People, aliases or group addresses left out because the address is someone else's (each with why). */
  conflicts: Array<{ address: string; reason: "address_taken" | "address_is_alias" }>;
  /** Tenants whose listing failed (the round goes on with the others; the next sweep retries). */
  failedTenants: number;
  /** Tenants left to another instance, which was reading their directory or had just read it. */
  skippedTenants: number;
}

/** The report's counts, summed over tenants for a round's total (and read back from a stored round). */
export const DIRECTORY_REPORT_COUNTS = [
  "listed",
  "created",
  "linked",
  "updated",
  "aliasesAdded",
  "aliasesRemoved",
  "disabled",
  "markedLeft",
  "leaversWithheld",
  "groupAddressesAdded",
  "groupAddressesRemoved",
  "groupMembersAdded",
  "groupMembersRemoved",
  "failedTenants",
  "skippedTenants",
] as const;

/** A report with nothing done yet, to count into. */
export function emptyDirectoryReport(): DirectorySyncReport {
  return {
    listed: 0,
    created: 0,
    linked: 0,
    updated: 0,
    aliasesAdded: 0,
    aliasesRemoved: 0,
    disabled: 0,
    markedLeft: 0,
    leaversWithheld: 0,
    groupAddressesAdded: 0,
    groupAddressesRemoved: 0,
    groupMembersAdded: 0,
    groupMembersRemoved: 0,
    conflicts: [],
    failedTenants: 0,
    skippedTenants: 0,
  };
}

const CONFLICT_REASONS = new Set(["address_taken", "address_is_alias"]);

/**
 * Keeps a tenant's last directory round (one row per tenant), so IT sees it after a restart and from whichever
 * instance answers, not only from the process that ran it.
 */
export async function recordDirectoryRound(
  db: Kysely<Database>,
  tenantId: string,
  at: Date,
  report: DirectorySyncReport,
): Promise<void> {
  const value = JSON.stringify(report);
  await db
    .insertInto("directory_rounds")
    .values({ tenant_id: tenantId, at, report: value })
    .onConflict((oc) => oc.column("tenant_id").doUpdateSet({ at, report: value }))
    .execute();
}

/** A stored report as a report: a count the row lacks (written before it existed) reads as 0. */
export function directoryReportOf(stored: unknown): DirectorySyncReport {
  const raw = (typeof stored === "string" ? JSON.parse(stored) : stored) as Record<string, unknown> | null;
  const report = emptyDirectoryReport();
  if (!raw || typeof raw !== "object") return report;
  for (const key of DIRECTORY_REPORT_COUNTS) {
    const n = raw[key];
    report[key] = typeof n === "number" && Number.isFinite(n) ? n : 0;
  }
  const conflicts = Array.isArray(raw.conflicts) ? (raw.conflicts as unknown[]) : [];
  for (const c of conflicts) {
    const conflict = c as { address?: unknown; reason?: unknown };
    if (typeof conflict.address === "string" && CONFLICT_REASONS.has(String(conflict.reason)))
      report.conflicts.push({
        address: conflict.address,
        reason: conflict.reason as DirectorySyncReport["conflicts"][number]["reason"],
      });
  }
  return report;
}

/** A tenant's last directory round, or null before the first. */
export async function lastDirectoryRound(
  db: Kysely<Database>,
  tenantId: string,
): Promise<{ at: Date; report: DirectorySyncReport } | null> {
  const row = await db
    .selectFrom("directory_rounds")
    .select(["at", "report"])
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
  return row ? { at: new Date(row.at), report: directoryReportOf(row.report) } : null;
}
