import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../support/db";
import { testServices } from "../../../support/services";
import { buildTenant, buildUser } from "../../../factories";
import { MailPipeline } from "../../../../server/mail/pipeline/index";
import { createOfflineResolver } from "../../../../server/mail/scan/dns";
import type { Services } from "../../../../server/context";
import { rawMessage } from "../gateway/helpers";

// A recipient accepted at RCPT who is gone by DATA (removed in the directory cache's seconds between): the 250 the
// others get covers their copy too, so it must not vanish. It is archived and relayed as addressed, like a group's.
let database: TestDatabase;
let services: Services;
let pipeline: MailPipeline;

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  const tenant = await buildTenant(services.db, { domains: ["gone.test"] });
  await buildUser(services.db, { tenantId: tenant.id, email: "stay@gone.test" });
  pipeline = new MailPipeline(services, { resolver: createOfflineResolver() });
});

afterAll(async () => {
  await pipeline?.close();
  await database?.destroy();
});

describe("a recipient who left between RCPT and DATA", () => {
  it("keeps their copy: archived and queued for the next hop beside the others'", async () => {
    const message = rawMessage({ from: "friend@else.test", to: "stay@gone.test", subject: "Minutes" });
    const outcome = await pipeline.process({
      raw: message.raw,
      source: "smtp",
      envelope: {
        mailFrom: "friend@else.test",
        rcptTo: ["stay@gone.test", "left@gone.test"],
        clientIp: "192.0.2.9",
        helo: "h",
        sender: null,
      },
    });
    expect(outcome.kind).toBe("accepted");
    if (outcome.kind !== "accepted") return;
    const deliveries = await services.db
      .selectFrom("deliveries")
      .select("recipient")
      .where("message_id", "in", outcome.messageIds)
      .orderBy("recipient")
      .execute();
    expect(deliveries.map((d) => d.recipient)).toEqual(["left@gone.test", "stay@gone.test"]);
  });
});
