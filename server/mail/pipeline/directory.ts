import type { Kysely } from "kysely";
import type { Database } from "../../db/schema";
import type { TenantContext } from "../scan/types";
import { verifiedDomains } from "../../db/verified-domains";
import { canonicalAddress } from "../scan/domains";
import { isPostmasterAddress, operatorPostmaster, postmasterMailboxes } from "./postmaster";

/**
 * Where an envelope recipient belongs: one of our users, one of our groups (Microsoft 365 expands it; no mailbox
 * of ours), our domain but nobody there, or outside. Postmaster, held by nobody, is the organisation's postmaster
 * mailbox (`postmaster.ts`), or with none, relayed as addressed like a group's address.
 */
export type RecipientLookup =
  | { kind: "local"; tenantId: string; userId: string; address: string }
  | { kind: "group"; tenantId: string; address: string }
  | { kind: "unknown_user"; tenantId: string; address: string }
  | { kind: "external"; address: string };

/** Tenant-wide facts the pipeline needs per message: scanner context and policy settings. */
export interface TenantProfile {
  tenantId: string;
  context: TenantContext;
  /** Days a held item waits in quarantine before it expires (tenant setting `quarantineRetentionDays`, default 14). */
  quarantineRetentionDays: number;
  /** What an organisation block does (tenant setting `orgBlockAction`, default reject at SMTP time). */
  orgBlockAction: "reject" | "hold";
  /** Score at which a message is held (tenant setting `holdThreshold`; the engine's default when absent). */
  holdThreshold: number | undefined;
  /** Score at which delivered inbound mail is suspect (tenant setting `suspectScore`; MAILWARD_SUSPECT_SCORE when absent). */
  suspectScore: number | undefined;
}

/** The verdict settings of a tenant's profile, as read from `tenants.settings` (anything malformed reads as unset). */
export type VerdictSettings = Omit<TenantProfile, "tenantId" | "context">;

/** Reads the verdict settings out of `tenants.settings`: the one reading the gateway, Graph and the settings API share. */
export function verdictSettingsOf(settings: Record<string, unknown>): VerdictSettings {
  return {
    quarantineRetentionDays:
      numberSetting(settings, "quarantineRetentionDays", 1, 3650) ?? DEFAULT_QUARANTINE_RETENTION_DAYS,
    orgBlockAction: settings.orgBlockAction === "hold" ? "hold" : "reject",
    holdThreshold: numberSetting(settings, "holdThreshold", 0, 1000),
    suspectScore: numberSetting(settings, "suspectScore", 0, 1000),
  };
}

/** The default quarantine retention of DESIGN §5. */
export const DEFAULT_QUARANTINE_RETENTION_DAYS = 14;
const PROFILE_TTL_MS = 30_000;
const KNOWN_LOCAL_TTL_MS = 10_000;

function domainOf(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0 ? "" : address.slice(at + 1);
}

/**
 * The address without its "+tag" (sub-addressing, RFC 5233: `tina+orders@example.com` is tina's), or null when
 * the local part has no tag. Microsoft 365 delivers plus addresses to the mailbox, so the gateway must too.
 */
export function untaggedAddress(address: string): string | null {
  const at = address.lastIndexOf("@");
  const plus = address.indexOf("+");
  if (plus <= 0 || at < 0 || plus > at) return null;
  return address.slice(0, plus) + address.slice(at);
}

function numberSetting(
  settings: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
): number | undefined {
  const value = settings[key];
  return typeof value === "number" && Number.isFinite(value) && value >= min && value <= max
    ? value
    : undefined;
}

/**
 * Answers "whose is this address?" and "what does this tenant look like?" for
 * the gateway. Recipients are looked up per call (one indexed query, so a user
 * added a second ago receives mail); tenant profiles (people for impersonation
 * checks, settings) are cached for 30 s.
 */
export class TenantDirectory {
  private readonly profiles = new Map<string, { profile: TenantProfile; loadedAt: number }>();
  /** Recently confirmed local recipients (RCPT TO, then DATA, look up the same addresses). */
  private readonly knownLocal = new Map<string, { lookup: RecipientLookup; at: number }>();

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Resolves envelope recipients to tenants and users. Addresses confirmed as
   * our users in the last 10 s come from memory (so DATA does not repeat the
   * RCPT TO queries); anything else is looked up, so a new user receives mail at once.
   */
  async lookupRecipients(addresses: readonly string[], now = Date.now()): Promise<RecipientLookup[]> {
    const canonical = await this.withPostmasterDomain(addresses.map(canonicalAddress));
    const cached = canonical.map((a) => {
      const hit = this.knownLocal.get(a);
      return hit && now - hit.at < KNOWN_LOCAL_TTL_MS ? hit.lookup : null;
    });
    if (cached.every((c) => c !== null)) return cached as RecipientLookup[];
    const found = await this.queryRecipients(canonical);
    if (this.knownLocal.size > 10_000) this.knownLocal.clear();
    for (const lookup of found)
      if (lookup.kind === "local" || lookup.kind === "group")
        this.knownLocal.set(lookup.address, { lookup, at: now });
    return found;
  }

  /** Bare `postmaster` (RFC 5321 §4.5.1) as the operator's postmaster address; left as it is while there is none. */
  private async withPostmasterDomain(canonical: string[]): Promise<string[]> {
    if (!canonical.includes("postmaster")) return canonical;
    const operator = await operatorPostmaster(this.db);
    return canonical.map((a) => (a === "postmaster" && operator ? operator : a));
  }

  private async queryRecipients(canonical: string[]): Promise<RecipientLookup[]> {
    const domains = [...new Set(canonical.map(domainOf).filter((d) => d !== ""))];
    if (domains.length === 0) return canonical.map((address) => ({ kind: "external", address }));
    const tenants = await verifiedDomains(this.db)
      .select(["tenant_id", "domain"])
      .where("domain", "in", domains)
      .execute();
    const tenantOfDomain = new Map(tenants.map((t) => [t.domain, t.tenant_id]));
    const localAddresses = canonical.flatMap((a) => {
      if (!tenantOfDomain.has(domainOf(a))) return [];
      const untagged = untaggedAddress(a);
      return untagged ? [a, untagged] : [a];
    });
    const users =
      localAddresses.length === 0
        ? []
        : await this.db
            .selectFrom("users")
            .select(["id", "tenant_id", "email"])
            .where("tenant_id", "in", [...new Set(tenants.map((t) => t.tenant_id))])
            .where((eb) => eb(eb.fn("lower", ["email"]), "in", [...new Set(localAddresses)]))
            // Someone who left the directory has no mailbox at Microsoft 365 any more: their mail is refused here.
            .where("left_directory_at", "is", null)
            .execute();
    const userOf = new Map(users.map((u) => [`${u.tenant_id} ${u.email.toLowerCase()}`, u.id]));
    // Addresses that are nobody's primary one may be someone's other address (alias).
    const unresolved = localAddresses.filter((a) => {
      const tenantId = tenantOfDomain.get(domainOf(a));
      return tenantId !== undefined && !userOf.has(`${tenantId} ${a}`);
    });
    if (unresolved.length > 0) {
      const aliases = await this.db
        .selectFrom("user_addresses")
        .innerJoin("users", "users.id", "user_addresses.user_id")
        .select(["user_addresses.address", "user_addresses.tenant_id", "user_addresses.user_id"])
        .where("user_addresses.address", "in", [...new Set(unresolved)])
        .where("users.left_directory_at", "is", null)
        .execute();
      for (const alias of aliases) userOf.set(`${alias.tenant_id} ${alias.address}`, alias.user_id);
    }
    const groups = await this.groupsAmong(
      unresolved.filter((a) => !userOf.has(`${tenantOfDomain.get(domainOf(a))} ${a}`)),
    );
    const postmasters = await postmasterMailboxes(this.db, [
      ...new Set(
        unresolved.flatMap((a) => {
          const tenantId = tenantOfDomain.get(domainOf(a));
          return tenantId && isPostmasterAddress(a) && !groups.has(`${tenantId} ${a}`) ? [tenantId] : [];
        }),
      ),
    ]);
    return canonical.map((address): RecipientLookup => {
      const tenantId = tenantOfDomain.get(domainOf(address));
      if (!tenantId) return { kind: "external", address };
      // An address that is itself a user's wins over its untagged form.
      const untagged = untaggedAddress(address);
      const userId =
        userOf.get(`${tenantId} ${address}`) ??
        (untagged ? userOf.get(`${tenantId} ${untagged}`) : undefined);
      if (userId) return { kind: "local", tenantId, userId, address };
      if (groups.has(`${tenantId} ${address}`)) return { kind: "group", tenantId, address };
      if (isPostmasterAddress(address)) {
        const mailbox = postmasters.get(tenantId);
        // Addressed to the mailbox itself, so Microsoft 365 delivers it; the message keeps its To: postmaster@.
        return mailbox
          ? { kind: "local", tenantId, userId: mailbox.userId, address: mailbox.email }
          : { kind: "group", tenantId, address };
      }
      return { kind: "unknown_user", tenantId, address };
    });
  }

  /** Which of these addresses (nobody's, so far) are one of our groups', as "tenant address" keys. */
  private async groupsAmong(addresses: string[]): Promise<Set<string>> {
    if (addresses.length === 0) return new Set();
    const rows = await this.db
      .selectFrom("group_addresses")
      .select(["address", "tenant_id"])
      .where("address", "in", [...new Set(addresses)])
      .execute();
    return new Set(rows.map((r) => `${r.tenant_id} ${r.address}`));
  }

  /** The tenant's profile, from cache when fresh. */
  async profile(tenantId: string, now = Date.now()): Promise<TenantProfile> {
    const cached = this.profiles.get(tenantId);
    if (cached && now - cached.loadedAt < PROFILE_TTL_MS) return cached.profile;
    const [tenant, domains, people] = await Promise.all([
      this.db.selectFrom("tenants").select("settings").where("id", "=", tenantId).executeTakeFirst(),
      verifiedDomains(this.db).select("domain").where("tenant_id", "=", tenantId).execute(),
      this.db
        .selectFrom("users")
        .select(["email", "display_name"])
        .where("tenant_id", "=", tenantId)
        .where("disabled_at", "is", null)
        .execute(),
    ]);
    const settings = (tenant?.settings ?? {}) as Record<string, unknown>;
    const profile: TenantProfile = {
      tenantId,
      context: {
        domains: domains.map((d) => d.domain.toLowerCase()),
        people: people.map((p) => ({ displayName: p.display_name, email: p.email.toLowerCase() })),
      },
      ...verdictSettingsOf(settings),
    };
    this.profiles.set(tenantId, { profile, loadedAt: now });
    return profile;
  }

  /** Forgets cached profiles (after a settings or user change that must apply at once). */
  invalidate(tenantId?: string): void {
    if (tenantId) this.profiles.delete(tenantId);
    else this.profiles.clear();
    this.knownLocal.clear();
  }
}
