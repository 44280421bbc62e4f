import type { Kysely } from "kysely";
import type { Actor } from "../../context";
import type { Database } from "../../db/schema";
import { ApiError } from "../../http/errors";
import type { MeSettings } from "../../../shared/schemas/me";

/** The signed-in person's own settings: how they sign in, their digest security phrase, whether TOTP is on. */
export async function readMySettings(db: Kysely<Database>, actor: Actor): Promise<MeSettings> {
  const user = await db
    .selectFrom("users")
    .select(["entra_oid", "password_hash", "security_phrase", "totp_enabled"])
    .where("id", "=", actor.userId)
    .executeTakeFirst();
  if (!user) throw new ApiError("not_found");
  return {
    authMethod: user.entra_oid && !user.password_hash ? "entra" : "local",
    securityPhrase: user.security_phrase,
    totpEnabled: user.totp_enabled,
  };
}
