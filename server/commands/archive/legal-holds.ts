import type { Selectable } from "kysely";
import { runCommand, type Actor, type Services } from "../../context";
import type { LegalHoldsTable } from "../../db/schema";
import { parseOrReject } from "../../archive/search";
import { ApiError } from "../../http/errors";
import type { LegalHold, LegalHoldBody } from "../../../shared/schemas/archive";
import { auditArchive } from "./audit";

function present(row: Selectable<LegalHoldsTable>): LegalHold {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    query: row.query,
    custodianUserId: row.custodian_user_id,
    createdAt: new Date(row.created_at).toISOString(),
    liftedAt: row.lifted_at ? new Date(row.lifted_at).toISOString() : null,
  };
}

/** The tenant's legal holds, active first. */
export async function listLegalHolds(services: Services, actor: Actor): Promise<LegalHold[]> {
  const rows = await services.db
    .selectFrom("legal_holds")
    .selectAll()
    .where("tenant_id", "=", actor.tenantId)
    .orderBy("lifted_at", (ob) => ob.desc().nullsFirst())
    .orderBy("created_at", "desc")
    .execute();
  return rows.map(present);
}

/** Places a legal hold by query (validated now) or by custodian (a user of the tenant); audited. */
export async function placeLegalHold(
  services: Services,
  actor: Actor,
  ip: string | null,
  body: LegalHoldBody,
): Promise<LegalHold> {
  if (body.kind === "query") parseOrReject(body.query);
  if (body.kind === "custodian") {
    const user = await services.db
      .selectFrom("users")
      .select("id")
      .where("id", "=", body.custodianUserId)
      .where("tenant_id", "=", actor.tenantId)
      .executeTakeFirst();
    if (!user) throw new ApiError("not_found", "There is no such user.");
  }
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    const row = await trx
      .insertInto("legal_holds")
      .values({
        tenant_id: actor.tenantId,
        name: body.name,
        kind: body.kind,
        query: body.kind === "query" ? body.query : null,
        custodian_user_id: body.kind === "custodian" ? body.custodianUserId : null,
        created_by: actor.via === "system" ? null : actor.userId,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await auditArchive(
      trx,
      actor,
      ip,
      "archive.legal_hold_placed",
      { type: "legal_hold", id: row.id },
      { name: body.name, kind: body.kind, query: row.query, custodianUserId: row.custodian_user_id },
      now,
    );
    return present(row);
  });
}

/** Lifts an active legal hold (tenant admins only: the route checks `archive.legal_hold`); audited with the reason. */
export async function liftLegalHold(
  services: Services,
  actor: Actor,
  ip: string | null,
  id: string,
  reason: string,
): Promise<LegalHold> {
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    const row = await trx
      .selectFrom("legal_holds")
      .selectAll()
      .where("id", "=", id)
      .where("tenant_id", "=", actor.tenantId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw new ApiError("not_found");
    if (row.lifted_at) throw new ApiError("conflict", "This legal hold was already lifted.");
    const lifted = await trx
      .updateTable("legal_holds")
      .set({ lifted_at: now, lifted_by: actor.userId, lift_reason: reason })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await auditArchive(
      trx,
      actor,
      ip,
      "archive.legal_hold_lifted",
      { type: "legal_hold", id },
      { name: row.name, reason },
      now,
    );
    return present(lifted);
  });
}
