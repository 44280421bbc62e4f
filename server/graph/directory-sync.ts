import { randomUUID } from "node:crypto";
import type { Services } from "../context";
import {
  applyDirectoryPerson,
  isInLine,
  linkedAccounts,
  type DirectoryPerson,
} from "../commands/users/directory-person";
import { applyDirectoryGroups } from "../commands/users/directory-groups";
import { disableDirectoryLeavers } from "../commands/users/directory-leavers";
import type { GraphConnection } from "./connection";
import { describeError } from "./errors";
import {
  DIRECTORY_LEASE_MS,
  claimDirectoryRound,
  releaseDirectoryRound,
  renewDirectoryRound,
} from "./directory-lease";
import { syncDirectoryMembers } from "./directory-members";
import { groupNamesOf } from "../commands/users/directory-members";
import {
  DIRECTORY_REPORT_COUNTS,
  emptyDirectoryReport,
  recordDirectoryRound,
  type DirectorySyncReport,
} from "./directory-report";
import {
  directoryGroupOf,
  directoryPersonOf,
  type DirectoryGroupEntry,
  type DirectoryUser,
} from "./directory-entries";
import { verifiedDomains } from "../db/verified-domains";
import { directoryFor } from "./tenant-directory";

/** Graph's largest page of users and groups. */
const PAGE_SIZE = "999";
const USER_SELECT = "id,displayName,mail,proxyAddresses,userPrincipalName";
const GROUP_SELECT = "id,displayName,mail,proxyAddresses";

/**
 * Reads each organisation's Entra directory into Mailward, so the gateway takes mail for every recipient
 * Microsoft 365 has, before anyone signs in: people (`GET /users`, every page; User.Read.All) with a mailbox in
 * the organisation's domains get an account (as a first sign-in would make it) and their proxy addresses become
 * their aliases (shared mailboxes are users in Entra and come along); mail-enabled groups (`GET /groups`;
 * GroupMember.Read.All) give the addresses the gateway relays for Microsoft 365 to expand, and their transitive
 * members the people who see and release the group's held mail. Runs at the start of each Graph sweep when
 * MAILWARD_GRAPH_DIRECTORY_SYNC is on.
 */
export class DirectorySync {
  /** This instance, as the holder of directory leases (several instances share one database). */
  private readonly holder = randomUUID();
  /** The end of this instance's last round asked for (settled either way), which the next one waits for. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly services: Services,
    private readonly connection: GraphConnection,
    /** How often a running round renews its lease (tests make it short). */
    private readonly leaseRenewMs = DIRECTORY_LEASE_MS / 3,
  ) {}

  /**
   * One round over every organisation with a directory: its own Entra mapping (tenants.entra_tenant_id), or, for
   * the default (first) organisation without one, the configured MAILWARD_GRAPH_TENANT_ID. Another organisation
   * without a mapping is not read from someone else's directory. A round asked for while this instance's is
   * running starts after it; an organisation another instance is reading, or has just read, is skipped.
   */
  run(): Promise<DirectorySyncReport> {
    const round = this.queue.then(() => this.runNow());
    this.queue = round.catch(() => undefined);
    return round;
  }

  private async runNow(): Promise<DirectorySyncReport> {
    const { db, logger } = this.services;
    const total = emptyDirectoryReport();
    const tenants = await db
      .selectFrom("tenants")
      .select(["id", "entra_tenant_id"])
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    for (const [index, tenant] of tenants.entries()) {
      const directoryId = directoryFor(tenant, index === 0, this.connection.settings.directoryId);
      if (!directoryId) continue;
      const report = await this.runClaimed(tenant.id, directoryId);
      if (!report) {
        total.skippedTenants += 1;
        continue;
      }
      for (const key of DIRECTORY_REPORT_COUNTS) total[key] += report[key];
      total.conflicts.push(...report.conflicts);
    }
    // Addresses taken away (dropped aliases, renames, leavers, groups gone) stop taking mail at once, not when the
    // cache expires, and new people count in the impersonation check from the next message. Group members are no
    // recipients (Microsoft 365 expands the group): their changes need no signal.
    if (
      total.created > 0 ||
      total.aliasesRemoved > 0 ||
      total.updated > 0 ||
      total.disabled > 0 ||
      total.markedLeft > 0 ||
      total.groupAddressesRemoved > 0
    )
      this.services.signals.recipientsChanged();
    const changed =
      total.created +
      total.linked +
      total.updated +
      total.disabled +
      total.markedLeft +
      total.groupAddressesAdded +
      total.groupAddressesRemoved +
      total.groupMembersAdded +
      total.groupMembersRemoved;
    if (changed > 0 || total.conflicts.length > 0)
      logger.info(
        { ...total, conflicts: total.conflicts.slice(0, 20) },
        "directory sync: accounts, aliases, group addresses and members brought in line with Entra",
      );
    return total;
  }

  /**
   * One tenant's round under its lease (directory-lease.ts), recorded for its admins (GET /api/admin/graph) across
   * restarts and instances; null when another instance is reading the directory, or has just read it.
   */
  private async runClaimed(tenantId: string, directoryId: string): Promise<DirectorySyncReport | null> {
    const { db } = this.services;
    const lease = { tenantId, holder: this.holder };
    const claim = await claimDirectoryRound(db, {
      ...lease,
      now: this.services.now(),
      quietMs: this.connection.settings.sweepMs / 2,
    });
    if (claim !== "claimed") {
      this.services.logger.debug({ tenant: tenantId, claim }, "directory sync left to another instance");
      return null;
    }
    let finished = false;
    // A renewal still in flight is awaited before the release, so it cannot extend a lease already given back.
    let renewing: Promise<unknown> = Promise.resolve();
    const renew = setInterval(() => {
      renewing = renewDirectoryRound(db, { ...lease, now: this.services.now() }).catch(() => undefined);
    }, this.leaseRenewMs);
    renew.unref();
    try {
      const report = await this.runTenant(tenantId, directoryId);
      await recordDirectoryRound(db, tenantId, this.services.now(), report);
      finished = true;
      return report;
    } finally {
      clearInterval(renew);
      await renewing;
      await releaseDirectoryRound(db, { ...lease, now: this.services.now(), finished });
    }
  }

  /** One tenant's round: its people, then its groups; its own report. */
  private async runTenant(tenantId: string, directory: string): Promise<DirectorySyncReport> {
    const { db, logger } = this.services;
    const report = emptyDirectoryReport();
    const directoryId = directory.toLowerCase();
    const domains = new Set(
      (await verifiedDomains(db).select("domain").where("tenant_id", "=", tenantId).execute()).map((d) =>
        d.domain.toLowerCase(),
      ),
    );
    const api = this.connection.api(directoryId);
    let users: DirectoryUser[];
    try {
      users = (
        await api.collect<DirectoryUser>("/users", { query: { $select: USER_SELECT, $top: PAGE_SIZE } })
      ).items;
    } catch (error) {
      report.failedTenants += 1;
      logger.warn(
        { tenant: tenantId, error: describeError(error) },
        "directory sync could not list users; next sweep retries",
      );
      return report;
    }
    report.listed += users.length;
    const accounts = await linkedAccounts(this.services, tenantId);
    for (const user of users) {
      const person = directoryPersonOf(user, domains);
      if (person && !isInLine(accounts.get(person.oid), person)) await this.apply(tenantId, person, report);
    }
    const leavers = await disableDirectoryLeavers(this.services, tenantId, new Set(users.map((u) => u.id)));
    report.disabled += leavers.disabled;
    report.markedLeft += leavers.markedLeft;
    report.leaversWithheld += leavers.withheld;
    report.aliasesRemoved += leavers.aliasesRemoved;
    if (leavers.withheld > 0)
      logger.warn(
        { tenant: tenantId, leavers: leavers.withheld },
        "directory sync kept accounts of people missing from the directory enabled (too many at once, or the last tenant admin): check Entra, then disable them by hand if they left",
      );
    await this.syncGroups(tenantId, directoryId, domains, report);
    return report;
  }

  /**
   * The groups of one tenant, from a complete listing only (a failed one changes nothing: it must not look like
   * every group was deleted), then their members. Without GroupMember.Read.All the listing fails and people are
   * synced all the same.
   */
  private async syncGroups(
    tenantId: string,
    directoryId: string,
    domains: ReadonlySet<string>,
    report: DirectorySyncReport,
  ): Promise<void> {
    let groups: DirectoryGroupEntry[];
    try {
      groups = (
        await this.connection.api(directoryId).collect<DirectoryGroupEntry>("/groups", {
          query: { $filter: "mailEnabled eq true", $select: GROUP_SELECT, $top: PAGE_SIZE },
        })
      ).items;
    } catch (error) {
      report.failedTenants += 1;
      this.services.logger.warn(
        { tenant: tenantId, error: describeError(error) },
        "directory sync could not list groups (GroupMember.Read.All?); group addresses unchanged, next sweep retries",
      );
      return;
    }
    // The names of groups about to lose their addresses, for the audit event that takes their members away.
    const namesBefore = await groupNamesOf(this.services.db, tenantId);
    // An address that moves between a person and a group is the new owner's from the next round on, once
    // the old owner has let go of it (nobody takes an address that is still someone's).
    const outcome = await applyDirectoryGroups(
      this.services,
      tenantId,
      groups.flatMap((g) => directoryGroupOf(g, domains) ?? []),
    );
    report.groupAddressesAdded += outcome.added;
    report.groupAddressesRemoved += outcome.removed;
    for (const address of outcome.taken) report.conflicts.push({ address, reason: "address_taken" });
    const members = await syncDirectoryMembers(
      this.services,
      this.connection.api(directoryId),
      tenantId,
      namesBefore,
    );
    report.groupMembersAdded += members.added;
    report.groupMembersRemoved += members.removed;
  }

  private async apply(tenantId: string, person: DirectoryPerson, report: DirectorySyncReport): Promise<void> {
    const outcome = await applyDirectoryPerson(this.services, tenantId, person);
    if (outcome.kind === "skipped") return;
    if (outcome.kind === "conflict") {
      report.conflicts.push({ address: person.primary, reason: outcome.reason });
      return;
    }
    if (outcome.kind !== "unchanged") report[outcome.kind] += 1;
    report.aliasesAdded += outcome.aliasesAdded;
    report.aliasesRemoved += outcome.aliasesRemoved;
    for (const address of outcome.aliasesTaken) report.conflicts.push({ address, reason: "address_taken" });
  }
}
