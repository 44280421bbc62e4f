import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { signedInPerson } from "../../../support/sign-in";
import { buildUser, tenantOfDomain } from "../../../factories";
import type { ApiClient } from "../../../support/http";
import { archivedByMessageId, rawMessage, smtpSend, standardDns, waitForQueueIdle } from "../gateway/helpers";

// The archive keeps one copy of the same bytes, with the first transaction's trace and verdict. A later transaction
// of those bytes (a list's separate transaction per recipient, or a replay from another server) must be relayed with
// its own Authentication-Results, verdict and envelope sender, at once and after a release from quarantine.
let server: TestServer;
let sink: SmtpSink;
let tina: { email: string };
let bob: { email: string };
let carol: { email: string; client: ApiClient };

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer(
    { MAILWARD_NEXT_HOP: sink.address },
    {
      // strict.test does not allow the test client: SPF fails for it.
      dnsResolver: standardDns({ "strict.test": ["v=spf1 ip4:192.0.2.1 -all"] }),
      delivery: { retryBaseSeconds: 1, idlePollMs: 50 },
    },
  );
  const db = server.mailward.services.db;
  const tenantId = await tenantOfDomain(db);
  tina = await buildUser(db, { tenantId, email: "tina@example.com" });
  bob = await buildUser(db, { tenantId, email: "bob@example.com" });
  carol = await signedInPerson(db, server.baseUrl, {
    tenantId,
    email: "carol@example.com",
    password: "a long enough password 1",
  });
  const carolId = (
    await db.selectFrom("users").select("id").where("email", "=", carol.email).executeTakeFirstOrThrow()
  ).id;
  await db
    .insertInto("sender_rules")
    .values({ tenant_id: tenantId, scope: "user", user_id: carolId, kind: "block", pattern: "nice.test" })
    .execute();
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

/** The Authentication-Results field of a relayed copy, unfolded. */
function authenticationResults(raw: Buffer): string {
  const text = raw.toString("latin1").replace(/\r\n[ \t]+/g, " ");
  return /^Authentication-Results: .*$/m.exec(text)?.[0] ?? "";
}

function verdictScore(raw: Buffer): number {
  return Number(/^X-Mailward-Verdict: \w+; score=(-?[\d.]+)/m.exec(raw.toString("latin1"))?.[1] ?? NaN);
}

describe("the same bytes in another SMTP transaction", () => {
  it("relays each copy with its own transaction's results, verdict and envelope sender, also on release", async () => {
    const message = rawMessage({ from: "News <news@nice.test>", to: "list@lists.test", subject: "Issue 12" });
    expect(
      await smtpSend(server.smtpPort, { from: "news@nice.test", to: [tina.email] }, message.raw),
    ).toMatchObject({
      code: 250,
    });
    await sink.waitFor(() => sink.withMessageId(message.messageId, tina.email).length === 1);
    // The same bytes again, from an envelope sender whose SPF fails, to bob; then to carol, who blocks nice.test.
    for (const to of [bob.email, carol.email])
      expect(await smtpSend(server.smtpPort, { from: "x@strict.test", to: [to] }, message.raw)).toMatchObject(
        {
          code: 250,
        },
      );
    await sink.waitFor(() => sink.withMessageId(message.messageId, bob.email).length === 1);

    const first = sink.withMessageId(message.messageId, tina.email)[0]!;
    const again = sink.withMessageId(message.messageId, bob.email)[0]!;
    expect(authenticationResults(first.raw)).toMatch(/spf=pass .*smtp\.mailfrom=news@nice\.test/);
    expect(authenticationResults(again.raw)).toMatch(/spf=fail .*smtp\.mailfrom=x@strict\.test/);
    expect(authenticationResults(again.raw)).not.toContain("news@nice.test");
    expect(again.mailFrom).toBe("x@strict.test");
    // Its score counts its own failed SPF check.
    expect(verdictScore(again.raw)).toBeGreaterThan(verdictScore(first.raw));

    const db = server.mailward.services.db;
    const archived = await archivedByMessageId(db, message.messageId);
    expect(archived?.held.map((h) => h.recipient)).toEqual([carol.email]);
    const release = await carol.client.request("POST", `/api/held/${archived!.held[0]!.id}/release`, {});
    expect(release.status).toBe(200);
    await sink.waitFor(() => sink.withMessageId(message.messageId, carol.email).length === 1);
    await waitForQueueIdle(db);
    const released = sink.withMessageId(message.messageId, carol.email)[0]!;
    expect(authenticationResults(released.raw)).toMatch(/spf=fail .*smtp\.mailfrom=x@strict\.test/);
    expect(released.mailFrom).toBe("x@strict.test");
    expect(released.raw.toString("latin1")).toMatch(/^X-Mailward-Verdict: released;/m);
  });
});
