import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../support/db";
import { testServices } from "../../../support/services";
import { buildTenant, buildUser } from "../../../factories";
import type { Services } from "../../../../server/context";
import {
  commitParameters,
  commitPrepared,
  type CommittedMessage,
  type PreparedMessage,
} from "../../../../server/mail/pipeline/commit-batch";
import { archiveMessage, sha256Of } from "../../../../server/archive/store";
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs } from "kysely";
import { emptyArchiveFields } from "../../../../server/archive/parse";
import { rawMessage } from "../gateway/helpers";
import { preparedMessage } from "./prepared";

// Several messages in one group commit must come out exactly as if each had its own transaction.
let database: TestDatabase;
let services: Services;
let tenantId: string;
const users: Record<"ann" | "bob" | "cat", { id: string; email: string }> = {
  ann: { id: "", email: "" },
  bob: { id: "", email: "" },
  cat: { id: "", email: "" },
};

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  tenantId = (await buildTenant(services.db, { domains: ["batch.test"] })).id;
  for (const name of ["ann", "bob", "cat"] as const) {
    users[name] = await buildUser(services.db, { tenantId, email: `${name}@batch.test` });
  }
  await services.db
    .insertInto("sender_rules")
    .values({
      tenant_id: tenantId,
      scope: "user",
      user_id: users.bob.id,
      kind: "block",
      pattern: "pest@else.test",
    })
    .execute();
});

afterAll(async () => {
  await database?.destroy();
});

function prepare(raw: Buffer, from: string, to: Array<keyof typeof users>): Promise<PreparedMessage> {
  const recipients = to.map((name) => ({ address: users[name].email, userId: users[name].id }));
  return preparedMessage(services.db, { tenantId, raw, from, recipients });
}

/** A plugin that watches the queries or rewrites the results of one test's database handle, and changes nothing else. */
function observer(hooks: {
  query?: (args: PluginTransformQueryArgs) => void;
  result?: (args: PluginTransformResultArgs) => PluginTransformResultArgs["result"];
}): KyselyPlugin {
  return {
    transformQuery: (args) => {
      hooks.query?.(args);
      return args.node;
    },
    transformResult: async (args) => hooks.result?.(args) ?? args.result,
  };
}

/** Ids of the archived messages whose body contains `fragment`. */
const messagesWithBody = (fragment: string) =>
  services.db.selectFrom("messages").select("id").where("body_text", "like", `%${fragment}%`).execute();

const plain = (from: string, body: string) =>
  rawMessage({ from, to: "ann@batch.test", subject: "Order update", body }).raw;

describe("commitPrepared (group commit)", () => {
  it("decides and writes each message of a batch as if it had been alone", async () => {
    const clean = plain("friend@else.test", "Your order 4471 has shipped.");
    const pest = plain("pest@else.test", "Another note about order 4472.");
    const twice = plain("friend@else.test", "The same bytes, sent to two people in two transactions.");
    const earlier = plain("friend@else.test", "Archived before the batch ran.");
    await archiveMessage(
      services.db,
      tenantId,
      earlier,
      emptyArchiveFields(),
      {
        mailFrom: "friend@else.test",
        rcptTo: ["ann@batch.test"],
        direction: "inbound",
        source: "import",
        receivedAt: new Date(),
      },
      null,
    );

    const batch = [
      await prepare(clean, "friend@else.test", ["ann"]),
      await prepare(pest, "pest@else.test", ["bob", "ann"]),
      await prepare(twice, "friend@else.test", ["ann"]),
      await prepare(twice, "friend@else.test", ["cat"]),
      await prepare(twice, "friend@else.test", ["cat"]), // a sender's retry of the same transaction
      await prepare(earlier, "friend@else.test", ["cat"]),
    ];
    const results: CommittedMessage[] = await services.db
      .transaction()
      .execute((trx) => commitPrepared(trx, batch, new Date()));

    expect(results.map((r) => [r.created, r.queued, r.held, r.rejectAll])).toEqual([
      [true, 1, 0, false],
      [true, 1, 1, false], // bob's own block holds it for him only; ann still gets it
      [true, 1, 0, false],
      [false, 1, 0, false], // same bytes: the archive row is shared, the new recipient is still queued
      [false, 0, 0, false], // the retry queues nothing twice
      [false, 1, 0, false],
    ]);
    expect(results[3]?.messageIds).toEqual(results[2]?.messageIds);
    expect(results[4]?.messageIds).toEqual(results[2]?.messageIds);

    const [cleanId, pestId, twiceId, , , earlierId] = results.map((r) => r.messageIds[0]);
    const ids = [cleanId, pestId, twiceId, earlierId].map(String);
    const archived = await services.db
      .selectFrom("messages")
      .select(["id", "search_vector"])
      .where("id", "in", ids)
      .execute();
    expect(archived).toHaveLength(4);
    const name = (userId: string) => Object.entries(users).find(([, u]) => u.id === userId)?.[0];
    const links = await services.db
      .selectFrom("mailbox_links")
      .select(["message_id", "user_id", "folder"])
      .where("message_id", "in", ids)
      .execute();
    expect(links.map((l) => `${ids.indexOf(l.message_id)}:${name(l.user_id)}:${l.folder}`).sort()).toEqual([
      "0:ann:inbox",
      "1:ann:inbox",
      "1:bob:quarantine",
      "2:ann:inbox",
      "2:cat:inbox",
      "3:cat:inbox",
    ]);
    const held = await services.db
      .selectFrom("held_items")
      .select(["message_id", "recipient", "reason"])
      .where("message_id", "in", ids)
      .execute();
    expect(held).toEqual([{ message_id: pestId, recipient: "bob@batch.test", reason: "blocked_sender" }]);
    const deliveries = await services.db
      .selectFrom("deliveries")
      .select(["message_id", "recipient"])
      .where("message_id", "in", ids)
      .execute();
    expect(deliveries.map((d) => `${ids.indexOf(d.message_id)}:${d.recipient}`).sort()).toEqual([
      "0:ann@batch.test",
      "1:ann@batch.test",
      "2:ann@batch.test",
      "2:cat@batch.test",
      "3:cat@batch.test",
    ]);
    const blobs = await services.db
      .selectFrom("message_blobs")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("tenant_id", "=", tenantId)
      .executeTakeFirstOrThrow();
    expect(Number(blobs.n)).toBe(4);
  });

  it("writes nothing at all when the batch's transaction fails", async () => {
    const doomed = plain("friend@else.test", "This batch is rolled back.");
    const prepared = await prepare(doomed, "friend@else.test", ["ann"]);
    const broken: PreparedMessage = {
      ...(await prepare(plain("friend@else.test", "Its partner."), "friend@else.test", ["ann"])),
      batches: [{ ...prepared.batches[0]!, tenantId: "00000000-0000-0000-0000-000000000000" }],
    };
    await expect(
      services.db.transaction().execute((trx) => commitPrepared(trx, [prepared, broken], new Date())),
    ).rejects.toThrow();
    expect(await messagesWithBody("rolled back")).toEqual([]);
  });

  it("takes three round trips whatever the batch, and no transaction: rules and a lookup sent together, then one write", async () => {
    const events: string[] = [];
    const counting = observer({
      // The write's own CTEs (inserts) pass through here too, as parts of the one statement.
      query: (args) => {
        if (args.node.kind !== "InsertQueryNode") events.push(`sent ${args.node.kind}`);
      },
      result: (args) => {
        events.push("answered");
        return args.result;
      },
    });
    const batch = [
      await prepare(plain("friend@else.test", "Counted one."), "friend@else.test", ["ann", "bob"]),
      await prepare(plain("pest@else.test", "Counted two."), "pest@else.test", ["bob"]),
      await prepare(plain("friend@else.test", "Counted three."), "friend@else.test", ["cat"]),
    ];
    const results = await commitPrepared(services.db.withPlugin(counting), batch, new Date());
    expect(results.map((r) => [r.created, r.queued, r.held])).toEqual([
      [true, 2, 0],
      [true, 0, 1],
      [true, 1, 0],
    ]);
    // The write waits for both reads, and the reads do not wait for each other.
    expect(events).toEqual([
      "sent SelectQueryNode",
      "sent SelectQueryNode",
      "answered",
      "answered",
      "sent RawNode",
      "answered",
    ]);
  });

  it("bytes archived by another writer since the lookup: the batch writes nothing, and alone again it files under theirs", async () => {
    const raw = plain("friend@else.test", "Archived by a racing writer.");
    const prepared = await prepare(raw, "friend@else.test", ["ann"]);
    const partner = await prepare(plain("friend@else.test", "Its batch partner."), "friend@else.test", [
      "cat",
    ]);
    const theirs = await archiveMessage(services.db, tenantId, raw, prepared.fields, prepared.envelope, null);
    // The lookup answers as it would have just before the other writer committed: nothing archived yet.
    const beforeTheirs = observer({
      result: (args) =>
        args.result.rows.some((row) => typeof row === "object" && row !== null && "sha256" in row)
          ? { ...args.result, rows: [] }
          : args.result,
    });
    await expect(
      commitPrepared(services.db.withPlugin(beforeTheirs), [partner, prepared], new Date()),
    ).rejects.toThrow();
    expect(await messagesWithBody("batch partner")).toEqual([]);
    const linked = await services.db
      .selectFrom("mailbox_links")
      .select("user_id")
      .where("message_id", "=", theirs.id)
      .execute();
    expect(linked).toEqual([]);

    const [again] = await commitPrepared(services.db, [prepared], new Date());
    expect(again).toMatchObject({ created: false, messageIds: [theirs.id], queued: 1 });
    const copies = await services.db
      .selectFrom("messages")
      .select("id")
      .where("tenant_id", "=", tenantId)
      .where("sha256", "=", sha256Of(raw))
      .execute();
    expect(copies.map((c) => c.id)).toEqual([theirs.id]);
  });

  it("binds no more parameters than commitParameters says, so GroupCommit can keep batches within PostgreSQL's limit", async () => {
    const bound: number[] = [];
    const measuring = observer({
      query: (args) =>
        bound.push(services.db.getExecutor().compileQuery(args.node, args.queryId).parameters.length),
    });
    const submission = await prepare(
      plain("ann@batch.test", "Sent by ann through the gateway, with a long subject line."),
      "ann@batch.test",
      ["cat"],
    );
    // Forty users who each block the sender: forty held items, the most parameters a recipient binds.
    const blockers: Array<{ address: string; userId: string }> = [];
    for (let n = 0; n < 40; n++) {
      const user = await buildUser(services.db, { tenantId, email: `blocker${n}@batch.test` });
      blockers.push({ address: user.email, userId: user.id });
    }
    await services.db
      .insertInto("sender_rules")
      .values(
        blockers.map((b) => ({
          tenant_id: tenantId,
          scope: "user" as const,
          user_id: b.userId,
          kind: "block" as const,
          pattern: "swarm@else.test",
        })),
      )
      .execute();
    const swarm = await prepare(plain("swarm@else.test", "Bound four."), "swarm@else.test", ["bob"]);
    const heldForForty: PreparedMessage = {
      ...swarm,
      envelope: { ...swarm.envelope, rcptTo: blockers.map((b) => b.address) },
      batches: swarm.batches.map((batch) => ({ ...batch, recipients: blockers })),
    };
    const cases: Array<[string, PreparedMessage]> = [
      ["held for forty", heldForForty],
      [
        "held for its only recipient",
        await prepare(plain("pest@else.test", "Bound one."), "pest@else.test", ["bob"]),
      ],
      [
        "delivered to three",
        await prepare(plain("friend@else.test", "Bound two."), "friend@else.test", ["ann", "bob", "cat"]),
      ],
      [
        "a user's submission (the sender's link too)",
        { ...submission, sender: { tenantId, userId: users.ann.id } },
      ],
    ];
    for (const [what, message] of cases) {
      bound.length = 0;
      const [result] = await commitPrepared(services.db.withPlugin(measuring), [message], new Date());
      expect(result?.created, what).toBe(true);
      if (message === heldForForty) expect(result?.held).toBe(40);
      expect(Math.max(...bound), what).toBeLessThanOrEqual(commitParameters(message));
    }
  });
});
