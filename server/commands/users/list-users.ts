import type { Kysely } from "kysely";
import type { Database } from "../../db/schema";

/** A user as listed by the CLI and the admin API. */
export interface ListedUser {
  id: string;
  email: string;
  displayName: string;
  roles: string[];
  disabled: boolean;
}

/** Lists a tenant's users with their roles, by email. */
export async function listUsers(db: Kysely<Database>, tenantId: string): Promise<ListedUser[]> {
  const users = await db
    .selectFrom("users")
    .select(["id", "email", "display_name", "disabled_at"])
    .where("tenant_id", "=", tenantId)
    .orderBy("email")
    .execute();
  const grants = await db
    .selectFrom("role_assignments")
    .select(["user_id", "role"])
    .where("tenant_id", "=", tenantId)
    .execute();
  return users.map((u) => ({
    id: u.id,
    email: u.email,
    displayName: u.display_name,
    roles: grants
      .filter((g) => g.user_id === u.id)
      .map((g) => g.role)
      .sort(),
    disabled: u.disabled_at !== null,
  }));
}
