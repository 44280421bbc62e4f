import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../support/db";
import { testServices } from "../../../support/services";
import { buildTenant, buildUser } from "../../../factories";
import type { Services } from "../../../../server/context";
import {
  commitParameters,
  commitPrepared,
  type PreparedMessage,
} from "../../../../server/mail/pipeline/commit-batch";
import { gatewayReleaseTarget } from "../../../../server/commands/held/release-target";
import { rawMessage } from "../gateway/helpers";
import { preparedMessage } from "./prepared";

// Group mail goes into its members' mailboxes in the archive (as Microsoft 365 expands the group into theirs), so
// their archive search and the archived copy reach it; a release moves their copies out of quarantine.
let database: TestDatabase;
let services: Services;
let tenantId: string;
const TEAM = "team@grp.test";
const people: Record<"ann" | "bob" | "cat", string> = { ann: "", bob: "", cat: "" };
const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  tenantId = (await buildTenant(services.db, { domains: ["grp.test"] })).id;
  for (const name of ["ann", "bob", "cat"] as const)
    people[name] = (await buildUser(services.db, { tenantId, email: `${name}@grp.test` })).id;
  await services.db
    .insertInto("group_addresses")
    .values({ address: TEAM, tenant_id: tenantId, group_oid: "g-team", display_name: "Team" })
    .execute();
  await services.db
    .insertInto("group_addresses")
    .values({ address: "other@grp.test", tenant_id: tenantId, group_oid: "g-other", display_name: "Other" })
    .execute();
  await services.db
    .insertInto("group_members")
    .values([
      { tenant_id: tenantId, group_oid: "g-team", user_id: people.ann },
      { tenant_id: tenantId, group_oid: "g-team", user_id: people.bob },
      { tenant_id: tenantId, group_oid: "g-other", user_id: people.cat },
    ])
    .execute();
});
afterAll(async () => {
  await database?.destroy();
});

function prepare(
  body: string,
  recipients: Array<{ address: string; userId: string | null }>,
): Promise<PreparedMessage> {
  const raw = rawMessage({ from: "customer@else.test", to: TEAM, subject: "Order 4711", body }).raw;
  return preparedMessage(services.db, { tenantId, raw, from: "customer@else.test", recipients });
}

async function linksOf(messageId: string): Promise<string[]> {
  const rows = await services.db
    .selectFrom("mailbox_links")
    .innerJoin("users", "users.id", "mailbox_links.user_id")
    .select(["users.email", "mailbox_links.folder", "mailbox_links.message_date"])
    .where("message_id", "=", messageId)
    .execute();
  for (const row of rows) expect(row.message_date, row.email).not.toBeNull();
  return rows.map((r) => `${r.email} ${r.folder}`).sort();
}

describe("group mail in the archive", () => {
  it("links delivered group mail into each member's inbox, once, and nobody's for an address that is no group's", async () => {
    const message = await prepare("Where is my order?", [
      { address: TEAM, userId: null },
      { address: "cat@grp.test", userId: people.cat },
      { address: "ann@grp.test", userId: people.ann },
    ]);
    const [result] = await commitPrepared(services.db, [message], new Date());
    expect(result).toMatchObject({ created: true, queued: 3, held: 0 });
    expect(await linksOf(result!.messageIds[0]!)).toEqual([
      "ann@grp.test inbox",
      "bob@grp.test inbox",
      "cat@grp.test inbox",
    ]);
    const outside = await prepare("A copy for someone outside.", [
      { address: "friend@else.test", userId: null },
    ]);
    const [sent] = await commitPrepared(services.db, [outside], new Date());
    expect(await linksOf(sent!.messageIds[0]!)).toEqual([]);
  });

  it("files held group mail in the members' quarantine, and a release moves that group's copies to their inboxes", async () => {
    const message = await prepare(`Spam to two teams. ${GTUBE}`, [
      { address: TEAM, userId: null },
      { address: "other@grp.test", userId: null },
      { address: "bob@grp.test", userId: people.bob },
    ]);
    const [result] = await commitPrepared(services.db, [message], new Date());
    expect(result).toMatchObject({ created: true, held: 3 });
    const messageId = result!.messageIds[0]!;
    expect(await linksOf(messageId)).toEqual([
      "ann@grp.test quarantine",
      "bob@grp.test quarantine",
      "cat@grp.test quarantine",
    ]);
    // Bob's own hold of the same message decides his copy, even once he deleted it.
    await services.db
      .updateTable("held_items")
      .set({ status: "deleted" })
      .where("message_id", "=", messageId)
      .where("user_id", "=", people.bob)
      .execute();
    // The team's hold is released: ann's copy moves; cat's is the other group's, still held.
    const teamHold = await services.db
      .selectFrom("held_items")
      .select("id")
      .where("message_id", "=", messageId)
      .where("recipient", "=", TEAM)
      .executeTakeFirstOrThrow();
    await services.db.transaction().execute((trx) =>
      gatewayReleaseTarget.release(trx, {
        heldId: teamHold.id,
        tenantId,
        messageId,
        userId: null,
        recipient: TEAM,
      }),
    );
    expect(await linksOf(messageId)).toEqual([
      "ann@grp.test inbox",
      "bob@grp.test quarantine",
      "cat@grp.test quarantine",
    ]);
  });

  it("binds no more parameters than commitParameters says for group mail", async () => {
    const message = await prepare(`Bound for a group. ${GTUBE}`, [
      { address: TEAM, userId: null },
      { address: "friend@else.test", userId: null },
    ]);
    const bound: number[] = [];
    const measuring = services.db.withPlugin({
      transformQuery: (args) => {
        bound.push(services.db.getExecutor().compileQuery(args.node, args.queryId).parameters.length);
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    const [result] = await commitPrepared(measuring, [message], new Date());
    expect(result?.created).toBe(true);
    expect(Math.max(...bound)).toBeLessThanOrEqual(commitParameters(message));
  });
});
