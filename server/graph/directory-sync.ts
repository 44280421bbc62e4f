import type { Services } from "../context";
import { applyDirectoryPerson, type DirectoryPerson } from "../commands/users/directory-person";
import { domainOfAddress } from "../mail/scan/domains";
import type { GraphConnection } from "./connection";
import { describeError } from "./errors";

/** A user as `GET /users` lists them (the properties the sync selects). */
export interface DirectoryUser {
  id: string;
  displayName?: string | null;
  mail?: string | null;
  userPrincipalName?: string | null;
  proxyAddresses?: string[] | null;
}

/** Graph's largest page of users. */
const PAGE_SIZE = "999";
const SELECT = "id,displayName,mail,proxyAddresses,userPrincipalName";

/**
 * The person a directory user is for the gateway, or null when they have no mailbox in the organisation's
 * domains (no `mail`, or a guest's outside address). Their primary address is the `SMTP:` proxy address
 * (else `mail`); their aliases are the other `smtp:` ones in the organisation's domains. X500, SIP and
 * other proxy types are not mail addresses and are left out.
 */
export function directoryPersonOf(user: DirectoryUser, domains: ReadonlySet<string>): DirectoryPerson | null {
  const inDomains = (address: string) => domains.has(domainOfAddress(address));
  const smtp = (user.proxyAddresses ?? [])
    .filter((p) => /^smtp:/i.test(p))
    .map((p) => ({ primary: p.startsWith("SMTP:"), address: p.slice(5).trim().toLowerCase() }))
    .filter((p) => p.address.includes("@"));
  const primary = smtp.find((p) => p.primary)?.address ?? user.mail?.trim().toLowerCase() ?? "";
  if (!primary || !inDomains(primary)) return null;
  const aliases = [...new Set(smtp.map((p) => p.address))].filter((a) => a !== primary && inDomains(a));
  const displayName = user.displayName?.trim() || primary.split("@")[0] || primary;
  return { oid: user.id, primary, displayName, aliases: aliases.sort() };
}

/** What one sync round did, over every tenant it reached. */
export interface DirectorySyncReport {
  listed: number;
  created: number;
  linked: number;
  updated: number;
  aliasesAdded: number;
  aliasesRemoved: number;
  /** People or aliases left out because their address is someone else's (each with why). */
  conflicts: Array<{ address: string; reason: "address_taken" | "address_is_alias" }>;
  /** Tenants whose listing failed (the round goes on with the others; the next sweep retries). */
  failedTenants: number;
}

function emptyReport(): DirectorySyncReport {
  return {
    listed: 0,
    created: 0,
    linked: 0,
    updated: 0,
    aliasesAdded: 0,
    aliasesRemoved: 0,
    conflicts: [],
    failedTenants: 0,
  };
}

/**
 * Reads the people of each organisation's Entra directory (`GET /users`, every page; User.Read.All) into
 * Mailward: everyone with a mailbox in the organisation's domains gets an account (as a first sign-in
 * would make it), and their proxy addresses become their aliases, so the gateway takes their mail before
 * they ever sign in, to every address Microsoft 365 delivers to them. Shared mailboxes are users in Entra
 * and come along. Runs at the start of each Graph sweep when MAILWARD_GRAPH_DIRECTORY_SYNC is on.
 */
export class DirectorySync {
  constructor(
    private readonly services: Services,
    private readonly connection: GraphConnection,
  ) {}

  /** One round over every tenant (each tenant's directory: its own mapping, else the configured one). */
  async run(): Promise<DirectorySyncReport> {
    const { db, logger } = this.services;
    const report = emptyReport();
    const tenants = await db.selectFrom("tenants").select(["id", "entra_tenant_id"]).execute();
    for (const tenant of tenants) {
      const directoryId = (tenant.entra_tenant_id ?? this.connection.settings.directoryId).toLowerCase();
      const domains = new Set(
        (
          await db.selectFrom("tenant_domains").select("domain").where("tenant_id", "=", tenant.id).execute()
        ).map((d) => d.domain.toLowerCase()),
      );
      let users: DirectoryUser[];
      try {
        users = (
          await this.connection
            .api(directoryId)
            .collect<DirectoryUser>("/users", { query: { $select: SELECT, $top: PAGE_SIZE } })
        ).items;
      } catch (error) {
        report.failedTenants += 1;
        logger.warn(
          { tenant: tenant.id, error: describeError(error) },
          "directory sync could not list users; next sweep retries",
        );
        continue;
      }
      report.listed += users.length;
      for (const user of users) {
        const person = directoryPersonOf(user, domains);
        if (person) await this.apply(tenant.id, person, report);
      }
    }
    // Addresses taken away (dropped aliases, renames) stop taking mail at once, not when the cache expires.
    if (report.aliasesRemoved > 0 || report.updated > 0) this.services.signals.recipientsChanged();
    const changed = report.created + report.linked + report.updated;
    if (changed > 0 || report.conflicts.length > 0)
      logger.info(
        { ...report, conflicts: report.conflicts.slice(0, 20) },
        "directory sync: accounts and aliases brought in line with Entra",
      );
    return report;
  }

  private async apply(tenantId: string, person: DirectoryPerson, report: DirectorySyncReport): Promise<void> {
    const outcome = await applyDirectoryPerson(this.services, tenantId, person);
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
