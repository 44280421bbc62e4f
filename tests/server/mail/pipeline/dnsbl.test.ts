import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../support/db";
import { testConfig, testServices } from "../../../support/services";
import { buildTenant, buildUser } from "../../../factories";
import { MailPipeline } from "../../../../server/mail/pipeline/index";
import { dnsError, type DnsResolver } from "../../../../server/mail/scan/dns";
import type { Services } from "../../../../server/context";
import { rawMessage } from "../gateway/helpers";

// MAILWARD_DNSBL reaches the scanner, in this thread and on scan threads, and its listing lands in the stored verdict.
let database: TestDatabase;
let services: Services;
let recipient: string;
const asked: string[] = [];
const resolver: DnsResolver = async (name, rrtype) => {
  asked.push(`${rrtype} ${name}`);
  if (rrtype === "A" && name === "7.113.0.203.bl.test") return ["127.0.0.2"];
  throw dnsError("ENOTFOUND", name);
};

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine, {
    config: testConfig({ MAILWARD_DNSBL: "bl.test" }),
  });
  const tenant = await buildTenant(services.db, { domains: ["rbl.test"] });
  recipient = (await buildUser(services.db, { tenantId: tenant.id, email: "rita@rbl.test" })).email;
});

afterAll(async () => {
  await database?.destroy();
});

async function signalsOf(pipeline: MailPipeline, clientIp: string): Promise<string[]> {
  const message = rawMessage({ from: "news@else.test", to: recipient, subject: `Hello from ${clientIp}` });
  const outcome = await pipeline.process({
    raw: message.raw,
    source: "smtp",
    envelope: { mailFrom: "news@else.test", rcptTo: [recipient], clientIp, helo: "h", sender: null },
  });
  if (outcome.kind !== "accepted") throw new Error(`not accepted: ${outcome.kind}`);
  const row = await services.db
    .selectFrom("messages")
    .select("assessment")
    .where("id", "=", outcome.messageIds[0] ?? "")
    .executeTakeFirstOrThrow();
  const record = row.assessment as { signals?: Array<{ id: string }> } | null;
  return (record?.signals ?? []).map((s) => s.id);
}

describe("MAILWARD_DNSBL", () => {
  it.each([0, 1])("marks a listed client in the stored verdict (%i scan threads)", async (scanThreads) => {
    const pipeline = new MailPipeline(services, { resolver, scanThreads });
    try {
      expect(await signalsOf(pipeline, "203.0.113.7")).toContain("reputation.dnsbl");
      expect(await signalsOf(pipeline, "203.0.113.8")).not.toContain("reputation.dnsbl");
      expect(asked).toContain("A 8.113.0.203.bl.test");
    } finally {
      await pipeline.close();
    }
  });
});
