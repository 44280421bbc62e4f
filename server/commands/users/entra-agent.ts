import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";

/** An Entra person to give an account: their organisation, address, name and Entra object id. */
export interface EntraAgent {
  tenantId: string;
  email: string;
  displayName: string;
  oid: string;
}

/**
 * Creates the account an Entra person gets without an admin (a first sign-in, or the directory sync): linked to
 * their object id, without a password, with the agent role over their own mail only. The caller audits it (each
 * says where the account came from) in the same transaction.
 */
export async function createEntraAgent(trx: Transaction<Database>, agent: EntraAgent): Promise<string> {
  const user = await trx
    .insertInto("users")
    .values({
      tenant_id: agent.tenantId,
      email: agent.email,
      display_name: agent.displayName,
      entra_oid: agent.oid,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await trx
    .insertInto("role_assignments")
    .values({ tenant_id: agent.tenantId, user_id: user.id, role: "agent", scope: "own", scope_id: null })
    .execute();
  return user.id;
}
