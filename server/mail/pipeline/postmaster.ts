import type { Kysely } from "kysely";
import type { Database } from "../../db/schema";
import { verifiedDomains } from "../../db/verified-domains";

/**
 * RFC 5321 §4.5.1: a server that takes mail for a domain MUST take it for "postmaster" there, and for
 * `RCPT TO:<Postmaster>` with no domain. Reports of our gateway's problems, and blocklist operators' checks,
 * arrive at that address; refusing it is a reason for some of them to refuse our mail.
 */
const POSTMASTER = "postmaster";

/** True for postmaster at any domain, or bare (the address in canonical, lower-case form). */
export function isPostmasterAddress(address: string): boolean {
  const at = address.lastIndexOf("@");
  return (at < 0 ? address : address.slice(0, at)) === POSTMASTER;
}

/**
 * Whom bare `postmaster` names: postmaster at the first verified domain of the first tenant (the operator's own,
 * made at first start). Null while there is none.
 */
export async function operatorPostmaster(db: Kysely<Database>): Promise<string | null> {
  const row = await verifiedDomains(db)
    .innerJoin("tenants", "tenants.id", "tenant_domains.tenant_id")
    .select("tenant_domains.domain")
    .orderBy("tenants.created_at")
    .orderBy("tenant_domains.verified_at")
    .orderBy("tenant_domains.domain")
    .executeTakeFirst();
  return row ? `${POSTMASTER}@${row.domain.toLowerCase()}` : null;
}

/** The mailbox that reads an organisation's postmaster mail. */
export interface PostmasterMailbox {
  userId: string;
  email: string;
}

/**
 * Each organisation's postmaster mailbox, where nobody holds the postmaster address itself: its longest-serving
 * tenant admin whose own address is in one of its verified domains (so Microsoft 365 has that mailbox), who is
 * neither disabled nor gone from the directory. Organisations with none are left out.
 */
export async function postmasterMailboxes(
  db: Kysely<Database>,
  tenantIds: readonly string[],
): Promise<Map<string, PostmasterMailbox>> {
  if (tenantIds.length === 0) return new Map();
  const [admins, domains] = await Promise.all([
    db
      .selectFrom("role_assignments")
      .innerJoin("users", "users.id", "role_assignments.user_id")
      .select(["role_assignments.tenant_id", "users.id", "users.email"])
      .where("role_assignments.tenant_id", "in", [...tenantIds])
      .where("role_assignments.role", "=", "tenant_admin")
      .where("users.disabled_at", "is", null)
      .where("users.left_directory_at", "is", null)
      .orderBy("role_assignments.created_at")
      .orderBy("users.id")
      .execute(),
    verifiedDomains(db)
      .select(["tenant_id", "domain"])
      .where("tenant_id", "in", [...tenantIds])
      .execute(),
  ]);
  const ours = new Set(domains.map((d) => `${d.tenant_id} ${d.domain.toLowerCase()}`));
  const mailboxes = new Map<string, PostmasterMailbox>();
  for (const admin of admins) {
    const email = admin.email.toLowerCase();
    const domain = email.slice(email.lastIndexOf("@") + 1);
    if (!mailboxes.has(admin.tenant_id) && ours.has(`${admin.tenant_id} ${domain}`))
      mailboxes.set(admin.tenant_id, { userId: admin.id, email });
  }
  return mailboxes;
}
