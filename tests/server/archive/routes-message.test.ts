import { archiveMessage } from "../../../shared/schemas/archive";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { defaultTenant, fileFor, mimeMessage, signedIn, uniqueWord } from "./helpers";
import { readCorpus } from "./corpus";

let server: TestServer;
let tenantId: string;
const db = () => server.mailward.services.db;

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_ADMIN_TOTP: "optional" });
  tenantId = await defaultTenant(db());
});
afterAll(async () => {
  await server?.stop();
});

async function fetchRaw(client: { cookie(name: string): string | undefined }, path: string) {
  const res = await fetch(`${server.baseUrl}${path}`, {
    headers: { cookie: `mw_session=${client.cookie("mw_session") ?? ""}` },
  });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

describe("GET /api/archive/:id", () => {
  it("shows headers, a sanitized preview, attachments and the thread within the caller's own mail", async () => {
    const alice = await signedIn(db(), server.baseUrl);
    const bob = await signedIn(db(), server.baseUrl);
    const root = `<${uniqueWord()}@outside.example>`;
    const first = await fileFor(
      db(),
      tenantId,
      mimeMessage({
        to: alice.email,
        subject: "Broken delivery",
        text: "My parcel never came.",
        html: '<p onclick="steal()">My parcel <b>never</b> came.</p><script>alert(1)</script><img src="https://tracker.example/p.gif" width="300">',
        messageId: root,
        date: new Date("2024-03-01T10:00:00Z"),
        attachments: [
          { filename: "receipt.txt", content: Buffer.from("order 4411"), contentType: "text/plain" },
        ],
      }),
      [alice],
    );
    const reply = await fileFor(
      db(),
      tenantId,
      mimeMessage({
        from: alice.email,
        to: "customer@outside.example",
        subject: "Re: Broken delivery",
        text: "Sorry!",
        inReplyTo: root,
        references: root,
        date: new Date("2024-03-01T11:00:00Z"),
      }),
      [{ id: alice.id, folder: "sent" }],
    );
    // Bob answered the same thread from his own mailbox: Alice must not see it, nor he hers.
    const bobs = await fileFor(
      db(),
      tenantId,
      mimeMessage({
        from: bob.email,
        to: "customer@outside.example",
        subject: "Re: Broken delivery",
        text: "Bob here",
        inReplyTo: root,
        references: root,
      }),
      [{ id: bob.id, folder: "sent" }],
    );

    const res = await alice.client.request("GET", `/api/archive/${first.id}`);
    expect(res.status).toBe(200);
    const body = res.json as Record<string, unknown> & {
      html: string;
      attachments: unknown[];
      thread: Array<{ id: string }>;
      headers: Array<{ key: string }>;
    };
    expect(body.subject).toBe("Broken delivery");
    expect(body.html).toContain("<b>never</b>");
    expect(body.html).not.toMatch(/<script|onclick|alert\(1\)/);
    expect(body.html).not.toMatch(/\ssrc="https:\/\/tracker/);
    expect(body.remoteImagesBlocked).toBe(true);
    expect(body.attachments).toEqual([{ filename: "receipt.txt", contentType: "text/plain", size: 10 }]);
    expect(body.headers.some((h) => h.key === "message-id")).toBe(true);
    expect(body.thread.map((t) => t.id)).toEqual([first.id, reply.id]);

    const bobView = await bob.client.request("GET", `/api/archive/${bobs.id}`);
    expect((bobView.json.thread as Array<{ id: string }>).map((t) => t.id)).toEqual([bobs.id]);
    for (const path of [
      `/api/archive/${first.id}`,
      `/api/archive/${first.id}/raw`,
      `/api/archive/${first.id}/attachments/0`,
    ]) {
      expect((await bob.client.request("GET", path)).status).toBe(404);
    }
    expect(
      (await bob.client.request("POST", `/api/archive/${first.id}/forward`, { to: ["x@outside.example"] }))
        .status,
    ).toBe(404);
    expect((await bob.client.request("POST", `/api/archive/${first.id}/reply`, { text: "hi" })).status).toBe(
      404,
    );
    expect(
      (await alice.client.request("GET", `/api/archive/00000000-0000-4000-8000-000000000000`)).status,
    ).toBe(404);
    expect((await alice.client.request("GET", `/api/archive/not-a-uuid`)).status).toBe(400);
  });
});

describe("GET /api/archive/:id/raw", () => {
  it("shows internationalised domains in Unicode when they read unambiguously, and a lookalike in punycode", async () => {
    const alice = await signedIn(db(), server.baseUrl);
    const filed = await fileFor(
      db(),
      tenantId,
      mimeMessage({
        from: "Lena <lena@xn--bcher-kva.example>",
        to: `${alice.email}, billing@xn--pple-43d.com`,
        subject: "Stock count",
        text: "Done.",
      }),
      [alice],
    );
    const res = await alice.client.request("GET", `/api/archive/${filed.id}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      from: "Lena <lena@bücher.example>",
      to: [alice.email, "billing@xn--pple-43d.com"],
    });
  });

  it("returns the original bytes of real mail, with the stored SHA-256 that matches them", async () => {
    const alice = await signedIn(db(), server.baseUrl);
    for (const message of [
      ...(await readCorpus("spamassassin", "ham", 1200, 2)),
      ...(await readCorpus("linux-mips", "ham", 5112, 1)),
    ]) {
      const filed = await fileFor(db(), tenantId, message.raw, [alice]);
      const res = await fetchRaw(alice.client, `/api/archive/${filed.id}/raw`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^message\/rfc822/);
      expect(res.body.equals(message.raw)).toBe(true);
      const sha = createHash("sha256").update(res.body).digest("hex");
      expect(res.headers.get("x-mailward-sha256")).toBe(sha);
      expect(res.headers.get("repr-digest")).toBe(
        `sha-256=:${createHash("sha256").update(res.body).digest("base64")}:`,
      );
    }
  });
});

describe("GET /api/archive/:id/attachments/:index", () => {
  it("downloads an attachment, refuses executables to an agent (403) and unknown indexes (404)", async () => {
    const alice = await signedIn(db(), server.baseUrl);
    const filed = await fileFor(
      db(),
      tenantId,
      mimeMessage({
        to: alice.email,
        subject: "files",
        text: "see attached",
        attachments: [
          { filename: "notes.txt", content: Buffer.from("plain notes"), contentType: "text/plain" },
          { filename: "setup.exe", content: Buffer.from("MZ fake"), contentType: "application/octet-stream" },
        ],
      }),
      [alice],
    );
    const ok = await fetchRaw(alice.client, `/api/archive/${filed.id}/attachments/0`);
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toBe("plain notes");
    expect(ok.headers.get("content-disposition")).toContain('filename="notes.txt"');
    expect(ok.headers.get("content-type")).toBe("application/octet-stream");
    expect((await fetchRaw(alice.client, `/api/archive/${filed.id}/attachments/1`)).status).toBe(403);
    expect((await fetchRaw(alice.client, `/api/archive/${filed.id}/attachments/2`)).status).toBe(404);
    const security = await signedIn(db(), server.baseUrl, ["security_admin"]);
    await db()
      .insertInto("mailbox_links")
      .values({ tenant_id: tenantId, message_id: filed.id, user_id: security.id, folder: "inbox" })
      .execute();
    expect((await fetchRaw(security.client, `/api/archive/${filed.id}/attachments/1`)).status).toBe(200);
  });

  it("refuses an executable whose name hides its extension behind trailing dots or spaces", async () => {
    // Windows drops trailing dots and spaces when it saves a file (Firefox strips them too): "setup.exe." runs.
    const alice = await signedIn(db(), server.baseUrl);
    const names = ["setup.exe.", "setup.exe .", "run.js..", "report.docm. "];
    const filed = await fileFor(
      db(),
      tenantId,
      mimeMessage({
        to: alice.email,
        subject: "hidden extensions",
        text: "see attached",
        attachments: names.map((filename) => ({ filename, content: Buffer.from("MZ fake") })),
      }),
      [alice],
    );
    for (let index = 0; index < names.length; index++) {
      expect((await fetchRaw(alice.client, `/api/archive/${filed.id}/attachments/${index}`)).status).toBe(
        403,
      );
    }
  });

  it("names the download in a Content-Disposition no browser can read as another name", async () => {
    // A filename* outside RFC 8187 (a bare ' splits it in four) is dropped by Chromium, which then takes
    // filename= and percent-decodes it: "'payload.ex%65" would be saved as the executable "'payload.exe".
    const alice = await signedIn(db(), server.baseUrl);
    const name = "'payload (1).ex%65";
    const filed = await fileFor(
      db(),
      tenantId,
      mimeMessage({
        to: alice.email,
        subject: "odd name",
        text: "see attached",
        attachments: [{ filename: name, content: Buffer.from("MZ fake") }],
      }),
      [alice],
    );
    const res = await fetchRaw(alice.client, `/api/archive/${filed.id}/attachments/0`);
    expect(res.status).toBe(200);
    const header = res.headers.get("content-disposition") ?? "";
    const star = /; filename\*=([^;]*)$/.exec(header)?.[1] ?? "";
    expect(star).toMatch(/^UTF-8''(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})+$/);
    expect(decodeURIComponent(star.slice("UTF-8''".length))).toBe(name);
    const fallback = /^attachment; filename="([^"]*)";/.exec(header)?.[1] ?? "";
    expect(fallback).not.toMatch(/%[0-9A-Fa-f]{2}/);
    expect(fallback).not.toMatch(/\.exe$/);
  });
});

describe("POST /api/archive/:id/forward and /reply", () => {
  it("queues a forward (original attached) and a threaded reply through the delivery queue, both audited", async () => {
    const alice = await signedIn(db(), server.baseUrl);
    const messageId = `<${uniqueWord()}@outside.example>`;
    const original = await fileFor(
      db(),
      tenantId,
      mimeMessage({
        from: "Dana <dana@customer.example>",
        to: alice.email,
        subject: "Invoice 77",
        text: "Please resend invoice 77.",
        messageId,
      }),
      [alice],
    );

    const forward = await alice.client.request("POST", `/api/archive/${original.id}/forward`, {
      to: ["billing@partner.example"],
      note: "Can you check this?",
    });
    expect(forward.status).toBe(202);
    const forwardId = String(forward.json.id);
    expect(forward.json.status).toBe("queued");
    const queued = await db()
      .selectFrom("deliveries")
      .select(["recipient", "purpose", "state"])
      .where("message_id", "=", forwardId)
      .execute();
    expect(queued).toEqual([{ recipient: "billing@partner.example", purpose: "forward", state: "queued" }]);
    const forwardRaw = (await fetchRaw(alice.client, `/api/archive/${forwardId}/raw`)).body.toString();
    expect(forwardRaw).toMatch(/Subject: Fwd: Invoice 77/);
    expect(forwardRaw).toMatch(/Content-Type: message\/rfc822/);

    const reply = await alice.client.request("POST", `/api/archive/${original.id}/reply`, {
      text: "Resent, see attached.",
    });
    expect(reply.status).toBe(202);
    const replyId = String(reply.json.id);
    const replyQueued = await db()
      .selectFrom("deliveries")
      .select(["recipient", "purpose"])
      .where("message_id", "=", replyId)
      .execute();
    expect(replyQueued).toEqual([{ recipient: "dana@customer.example", purpose: "reply" }]);
    const replyRaw = (await fetchRaw(alice.client, `/api/archive/${replyId}/raw`)).body.toString();
    expect(replyRaw).toContain(`In-Reply-To: ${messageId}`);
    expect(replyRaw).toMatch(/Subject: Re: Invoice 77/);
    // Both are in Alice's sent mail and in the original's thread.
    const detail = await alice.client.request("GET", `/api/archive/${original.id}`);
    expect((detail.json.thread as Array<{ id: string }>).map((t) => t.id)).toContain(replyId);

    const audit = await db()
      .selectFrom("audit_events")
      .select(["action", "target_id"])
      .where("actor_id", "=", alice.id)
      .where("action", "in", ["archive.forwarded", "archive.replied"])
      .orderBy("seq")
      .execute();
    expect(audit).toEqual([
      { action: "archive.forwarded", target_id: original.id },
      { action: "archive.replied", target_id: original.id },
    ]);
    expect(
      (await alice.client.request("POST", `/api/archive/${original.id}/forward`, { to: ["not an address"] }))
        .status,
    ).toBe(400);
  });

  it("shows the sender how a forward is getting on, per recipient, with the receiving server's answer", async () => {
    const alice = await signedIn(db(), server.baseUrl);
    const original = await fileFor(
      db(),
      tenantId,
      mimeMessage({ from: "dana@customer.example", to: alice.email, subject: "Order 12", text: "Order." }),
      [alice],
    );
    expect((await alice.client.request("GET", `/api/archive/${original.id}`)).json.sending).toBeNull();
    const forward = await alice.client.request("POST", `/api/archive/${original.id}/forward`, {
      to: ["ops@partner.example", "nobody@partner.example"],
    });
    const forwardId = String(forward.json.id);
    const status = async () =>
      archiveMessage.parse((await alice.client.request("GET", `/api/archive/${forwardId}`)).json).sending;
    expect(await status()).toEqual({
      via: "queue",
      state: "sending",
      detail: "On its way.",
      recipients: [
        { address: "nobody@partner.example", state: "sending", response: null },
        { address: "ops@partner.example", state: "sending", response: null },
      ],
    });
    // What the delivery worker records (tests/server/mail/deliver cover the worker itself).
    const setDelivery = (recipient: string, state: string, lastError: string | null) =>
      db()
        .updateTable("deliveries")
        .set({ state, last_error: lastError })
        .where("message_id", "=", forwardId)
        .where("recipient", "=", recipient)
        .execute();
    await setDelivery("ops@partner.example", "deferred", "451 4.7.1 Greylisted, try again later");
    expect(await status()).toMatchObject({
      state: "retrying",
      recipients: [
        { address: "nobody@partner.example", state: "sending", response: null },
        {
          address: "ops@partner.example",
          state: "retrying",
          response: "451 4.7.1 Greylisted, try again later",
        },
      ],
    });
    // A network error names the next hop's address: the person gets the state, not the internals.
    await setDelivery("ops@partner.example", "deferred", "connect ECONNREFUSED 10.20.30.40:25");
    expect((await status())?.recipients[1]).toEqual({
      address: "ops@partner.example",
      state: "retrying",
      response: null,
    });
    await setDelivery("ops@partner.example", "delivered", null);
    // As the worker records a bounce: the enhanced status, then the server's reply.
    await setDelivery(
      "nobody@partner.example",
      "bounced",
      "5.1.1 550 5.1.1 <nobody@partner.example>: no such user",
    );
    const bounced = await status();
    expect(bounced?.state).toBe("failed");
    expect(bounced?.detail).toMatch(/Check the address and send it again/);
    expect(bounced?.recipients[0]).toEqual({
      address: "nobody@partner.example",
      state: "failed",
      response: "550 5.1.1 <nobody@partner.example>: no such user",
    });
    await setDelivery("nobody@partner.example", "delivered", null);
    expect(await status()).toMatchObject({
      state: "sent",
      detail: "Delivered to every recipient's mail server.",
    });
  });
});
