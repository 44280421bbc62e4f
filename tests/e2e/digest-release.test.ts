import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDueDigests, latestDigestSlot } from "../../server/mail/digest/schedule";
import { startTestServer, type TestServer } from "../support/server";
import { startSmtpSink, type SmtpSink } from "../support/smtp-sink";
import { ApiClient } from "../support/http";
import { buildUser } from "../factories";
import { readDigestMime, follow } from "../server/digest/support";
import { freePort } from "../support/ports";

// A free TCP port (freePort), so the public URL in digest links can name the server's real port.
let sink: SmtpSink;
let server: TestServer;

beforeAll(async () => {
  sink = await startSmtpSink();
  const port = await freePort();
  server = await startTestServer(
    {
      MAILWARD_NEXT_HOP: sink.address,
      MAILWARD_HTTP_PORT: String(port),
      MAILWARD_PUBLIC_URL: `http://127.0.0.1:${port}`,
    },
    { delivery: { idlePollMs: 200, retryBaseSeconds: 1 } },
  );
});
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

describe("held at the gateway → digest → release link → next hop", () => {
  it("delivers the released message exactly once and then shows 'already used'", async () => {
    const db = server.mailward.services.db;
    const tenant = await db
      .selectFrom("tenant_domains")
      .select("tenant_id")
      .where("domain", "=", "example.com")
      .executeTakeFirstOrThrow();
    const user = await buildUser(db, {
      tenantId: tenant.tenant_id,
      email: "dana@example.com",
      password: "correct horse battery staple",
    });
    const client = new ApiClient(server.baseUrl);
    expect((await client.login(user.email, "correct horse battery staple")).status).toBe(200);
    expect(
      (
        await client.request("POST", "/api/senders", {
          pattern: "offers@pushy-vendor.example",
          kind: "block",
        })
      ).status,
    ).toBe(201);
    expect(
      (await client.request("PUT", "/api/me/security-phrase", { phrase: "blue teapot at noon" })).status,
    ).toBe(204);

    // 1. Mail from the personally blocked sender arrives over real SMTP and is held.
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: server.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    const messageId = "<e2e-held-1@pushy-vendor.example>";
    await transport.sendMail({
      from: "Pushy <offers@pushy-vendor.example>",
      to: user.email,
      subject: "Your exclusive offer",
      text: "Buy now.",
      messageId,
    });
    transport.close();
    const held = await db
      .selectFrom("held_items as h")
      .innerJoin("messages as m", "m.id", "h.message_id")
      .select(["h.id", "h.status", "h.reason"])
      .where("m.message_id", "=", messageId)
      .executeTakeFirstOrThrow();
    expect(held).toMatchObject({ status: "held", reason: "blocked_sender" });
    expect(sink.withMessageId(messageId)).toHaveLength(0);

    // 2. The scheduler's next digest slot sends the digest through the delivery queue to the next hop.
    const services = server.mailward.services;
    const baseline = new Date(Date.now() + 2 * 60_000);
    await runDueDigests(services, baseline);
    const nextSlot = latestDigestSlot(
      { timeZone: "UTC", digestTimes: ["08:00", "16:00"] },
      new Date(baseline.getTime() + 24 * 3_600_000),
    )!;
    const run = await runDueDigests(services, new Date(nextSlot.getTime() + 60_000));
    expect(run.digests).toBeGreaterThanOrEqual(1);
    await sink.waitFor(
      (messages) =>
        messages.some(
          (m) =>
            m.rcptTo.includes(user.email) && m.raw.toString().includes("Mailward: 1 message held for you"),
        ),
      15_000,
    );
    const digestMail = sink.messages.find(
      (m) => m.rcptTo.includes(user.email) && m.raw.toString().includes("Mailward: 1 message held for you"),
    )!;
    const digest = await readDigestMime(digestMail.raw);
    expect(digest.html).toContain("blue teapot at noon");
    expect(digest.text).toContain("Your exclusive offer");
    const release = digest.links.find((l) => l.action === "release")!.url;
    expect(release.startsWith(`${server.baseUrl}/d/`)).toBe(true);

    // 3. Following the link (no sign-in): a confirmation page, then the release.
    const confirm = await follow(release);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain("blue teapot at noon");
    const done = await follow(release, "POST");
    expect(done.status).toBe(200);
    expect(done.text).toContain("Released");

    // 4. The message reaches the next hop, once.
    await sink.waitFor(() => sink.withMessageId(messageId, user.email).length >= 1, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(sink.withMessageId(messageId, user.email)).toHaveLength(1);

    // 5. The same link again: the "already used" page, and still one delivery.
    for (const method of ["GET", "POST"] as const) {
      const again = await follow(release, method);
      expect(again.status).toBe(410);
      expect(again.text).toContain("This link was already used");
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(sink.withMessageId(messageId, user.email)).toHaveLength(1);
    const status = await db
      .selectFrom("held_items")
      .select("status")
      .where("id", "=", held.id)
      .executeTakeFirstOrThrow();
    expect(status.status).toBe("released");
  });
});
