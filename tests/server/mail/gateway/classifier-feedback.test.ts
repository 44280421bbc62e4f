import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../support/db";
import { testServices } from "../../../support/services";
import { buildTenant, buildUser } from "../../../factories";
import {
  classifierRegistryFor,
  learnFromFeedback,
  MailPipeline,
} from "../../../../server/mail/pipeline/index";
import { createOfflineResolver } from "../../../../server/mail/scan/index";
import type { Services } from "../../../../server/context";
import { rawMessage } from "./helpers";

// Reports and releases teach the tenant's classifier; its state lives in classifier_states and classifier_tokens
// and reaches the pipeline.
let database: TestDatabase;
let services: Services;
let pipeline: MailPipeline;
let tenantId: string;
let recipient: string;

const SPAMMY = [
  "cheap pills",
  "viagra discount",
  "casino bonus",
  "winner lottery claim",
  "crypto doubling",
  "replica watches",
];
const HAMMY = [
  "meeting agenda",
  "project timeline",
  "invoice attached for march",
  "team lunch friday",
  "quarterly review notes",
  "customer ticket update",
];

async function archive(subject: string, body: string): Promise<string> {
  const message = rawMessage({
    from: `s${randomBytes(3).toString("hex")}@else.test`,
    to: recipient,
    subject,
    body,
  });
  const outcome = await pipeline.process({
    raw: message.raw,
    source: "smtp",
    envelope: {
      mailFrom: "x@else.test",
      rcptTo: [recipient],
      clientIp: "192.0.2.9",
      helo: "h",
      sender: null,
    },
  });
  if (outcome.kind !== "accepted") throw new Error("not accepted");
  return outcome.messageIds[0]!;
}

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  const tenant = await buildTenant(services.db, { domains: ["learn.test"] });
  tenantId = tenant.id;
  recipient = (await buildUser(services.db, { tenantId, email: "lou@learn.test" })).email;
  pipeline = new MailPipeline(services, { resolver: createOfflineResolver() });
});

afterAll(async () => {
  await database?.destroy();
});

describe("learnFromFeedback", () => {
  it("learns each message once, replaces a changed label, and persists the state", async () => {
    const id = await archive("cheap pills today", "buy cheap pills now, best viagra discount");
    expect(await learnFromFeedback(services, tenantId, id, "spam")).toEqual({
      learned: true,
      previousLabel: null,
    });
    expect(await learnFromFeedback(services, tenantId, id, "spam")).toEqual({
      learned: false,
      previousLabel: "spam",
    });
    const stored = await services.db
      .selectFrom("classifier_states")
      .select(["ham", "spam", "phish"])
      .where("tenant_id", "=", tenantId)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ ham: 0, spam: 1, phish: 0 });
    expect(await learnFromFeedback(services, tenantId, id, "ham")).toEqual({
      learned: true,
      previousLabel: "spam",
    });
    const after = await services.db
      .selectFrom("classifier_states")
      .select(["ham", "spam", "phish"])
      .where("tenant_id", "=", tenantId)
      .executeTakeFirstOrThrow();
    expect(after).toEqual({ ham: 1, spam: 0, phish: 0 });
    const ledger = await services.db
      .selectFrom("classifier_training")
      .selectAll()
      .where("message_id", "=", id)
      .execute();
    expect(ledger.map((l) => l.label)).toEqual(["ham"]);
    expect(classifierRegistryFor(services).peek(tenantId)?.messageCounts).toEqual({
      ham: 1,
      spam: 0,
      phish: 0,
    });
  });

  it("refuses a message of another tenant", async () => {
    const id = await archive("hello", "hello there");
    const other = await buildTenant(services.db);
    await expect(learnFromFeedback(services, other.id, id, "spam")).rejects.toThrow(/no message/);
  });

  it("changes the verdicts of new mail: after reports, similar mail scores as spam", async () => {
    for (let round = 0; round < 2; round++) {
      for (const words of SPAMMY)
        await learnFromFeedback(
          services,
          tenantId,
          await archive(`${words} ${round}`, `${words} ${words} limited offer click now unsubscribe`),
          "spam",
        );
      for (const words of HAMMY)
        await learnFromFeedback(
          services,
          tenantId,
          await archive(`${words} ${round}`, `hi team, ${words} as discussed, thanks`),
          "ham",
        );
    }
    const fresh = await archive("casino bonus viagra", "cheap pills casino bonus limited offer click now");
    const row = await services.db
      .selectFrom("messages")
      .select("assessment")
      .where("id", "=", fresh)
      .executeTakeFirstOrThrow();
    const record = row.assessment as { contentScore: number; signals: { id: string }[] };
    expect(record.contentScore).toBeGreaterThan(0.8);
    // The content signal is there (spam or phish wording: with no phish taught yet, the engine cannot tell them apart).
    expect(
      record.signals.map((s) => s.id).filter((id) => id === "content.spam" || id === "content.phish"),
    ).toHaveLength(1);

    // A new process (fresh registry) loads the same trained state from the database.
    const restarted = testServices(database.handle.db, database.handle.engine);
    const loaded = await classifierRegistryFor(restarted).get(tenantId);
    expect(loaded.messageCounts.spam).toBe(12);
    expect(loaded.messageCounts.ham).toBeGreaterThanOrEqual(12);
  });
});
