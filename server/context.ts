import type { Kysely, Transaction } from "kysely";
import type { Config } from "./config";
import type { Database } from "./db/schema";
import type { Logger } from "./logger";
import type { Metrics } from "./metrics";
import type { DnsResolver } from "./mail/scan/dns";
import type { Permission, Role, Scope } from "../shared/permissions";

/** A role the actor holds, with how far it reaches. */
export interface RoleGrant {
  role: Role;
  scope: Scope;
  scopeId: string | null;
  /**
   * False for a team or partner scope outside the person's own partner group (policies/users.ts roleScopeFitsPerson:
   * a row from before that rule, e.g. a vendor's employee leading an in-house team): the role's permissions stay, but
   * the scope reaches nobody. True for every other grant.
   */
  inGroup: boolean;
}

/** Who is acting: resolved from a session cookie or an Entra bearer token. */
export interface Actor {
  userId: string;
  tenantId: string;
  email: string;
  displayName: string;
  teamId: string | null;
  partnerId: string | null;
  grants: RoleGrant[];
  roles: Role[];
  permissions: ReadonlySet<Permission>;
  /** The addresses of the mail-enabled groups they are in (group_members): mail held for them is theirs to see. */
  groupAddresses: readonly string[];
  via: "session" | "bearer" | "system";
  sessionId?: string;
  /** When the session's sign-in was (a rotation without a password keeps it), for what needs a recent one. */
  signedInAt?: Date;
  /** Set when the session may only finish MFA enrolment (an admin role without TOTP); see server/auth/mfa-policy.ts. */
  restriction?: "mfa_enrolment";
}

/** Hooks other areas register so commands can wake background work without importing it. */
export interface Signals {
  /** New deliveries were queued: wake the delivery worker. */
  deliveriesQueued(): void;
  /** People lost addresses (an alias removed, a rename): the gateway forgets the recipients it confirmed lately. */
  recipientsChanged(): void;
  /** An organisation's settings changed: forget what was cached of them, so the next message uses the new ones. */
  organisationChanged(tenantId: string): void;
}

/** Signals nobody listens to yet: what services start with, before the pipeline and the delivery worker hook in. */
export function quietSignals(): Signals {
  return {
    deliveriesQueued: () => undefined,
    recipientsChanged: () => undefined,
    organisationChanged: () => undefined,
  };
}

/** Long-lived process services every route and command can reach. */
export interface Services {
  db: Kysely<Database>;
  engine: "pglite" | "postgres";
  config: Config;
  logger: Logger;
  metrics: Metrics;
  signals: Signals;
  /**
   * DNS for one-off administrative lookups (a domain's proof of ownership): not cached, so a TXT record published a
   * minute ago is seen at once. The gateway's checks use their own caching resolver.
   */
  dns: DnsResolver;
  now(): Date;
  /** The server key (MAILWARD_SECRET_KEY, auth/server-key.ts) that encrypts TOTP secrets at rest. Never logged. */
  secretKey: Buffer;
  /** Readiness probes other components (SMTP listener) register. */
  readiness: Map<string, () => boolean>;
  /** The embedded database's folder, for an online backup (`npm run mailward -- backup`); unset on PostgreSQL. */
  pgliteFolder?: string;
}

/** What a command runs with: the transaction, the actor and where the request came from. */
export interface CommandContext {
  trx: Transaction<Database>;
  services: Services;
  actor: Actor;
  ip: string | null;
  now: Date;
}

/** Runs `work` in one transaction with a command context; the audit event goes in the same transaction. */
export async function runCommand<T>(
  services: Services,
  actor: Actor,
  ip: string | null,
  work: (ctx: CommandContext) => Promise<T>,
): Promise<T> {
  return services.db.transaction().execute((trx) => work({ trx, services, actor, ip, now: services.now() }));
}

/** A label for the audit log: who did it, readable. */
export function actorLabel(actor: Actor): string {
  return actor.via === "system" ? `system:${actor.email}` : actor.email;
}

/** Who an audit event names as its actor: the person (none for the system), and how the log labels them. */
export function auditActor(actor: Actor): { actorId: string | null; actorLabel: string } {
  return { actorId: actor.via === "system" ? null : actor.userId, actorLabel: actorLabel(actor) };
}
