import { sql, type Expression, type ExpressionBuilder, type SqlBool } from "kysely";
import type { Database } from "./schema";

/**
 * `users` (unaliased) in one of these teams, and of the team's own partner group (both null: in-house): whom a team's
 * lead, or a team-scoped reach, covers. Invitations and moves keep a person's team in their group
 * (policies/users.ts teamFitsPerson); this keeps a row from before that rule (an in-house person in a partner's team)
 * out of the partner team lead's reach. The team is read by its primary key for each person of those teams only.
 */
export function inTeamsOfOwnGroup(
  eb: ExpressionBuilder<Database, "users">,
  teamIds: readonly string[],
): Expression<SqlBool> {
  return eb.and([
    eb("users.team_id", "in", [...teamIds]),
    eb.exists(
      eb
        .selectFrom("teams as own_team")
        .select(sql.lit(1).as("one"))
        .whereRef("own_team.id", "=", "users.team_id")
        .where((t) => t("own_team.partner_id", "is not distinct from", t.ref("users.partner_id"))),
    ),
  ]);
}
