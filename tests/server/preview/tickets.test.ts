import { createHmac } from "node:crypto";
import MailComposer from "nodemailer/lib/mail-composer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OFFICE_FRAME_ANCESTORS } from "../../../server/http/frame-ancestors";
import { PREVIEW_TICKET_TTL_MS, redeemPreviewTicket } from "../../../server/preview/tickets";
import { storedTenantSecret } from "../../support/tenant-secrets";
import { auditEvents, startSelfServiceFixture, type SelfServiceFixture } from "../held/support";

/**
 * The preview routes with a ticket, as the add-in's and portal's iframe loads them: no cookie, no bearer token,
 * only the signed URL the detail gave. The ticket opens exactly one preview (message, images choice), for a few
 * minutes, for a person still allowed to see it; the document comes with its own CSP header.
 */

let f: SelfServiceFixture;
let agent: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let held: { id: string; messageId: string };
let other: { id: string; messageId: string };

async function newsletter(to: string): Promise<Buffer> {
  return new MailComposer({
    from: "Promo <promo@held.example>",
    to,
    subject: "Spring catalogue",
    html:
      '<p>40 % off <a href="https://shop.held.example/garden">garden furniture</a></p>' +
      '<img src="https://img.held.example/banner.png" width="600" height="200">' +
      '<img src="https://pixel.held.example/open.gif" width="1" height="1">',
  })
    .compile()
    .build();
}

beforeAll(async () => {
  f = await startSelfServiceFixture();
  agent = await f.user();
  held = await f.held({ userId: agent.id, recipient: agent.email, raw: await newsletter(agent.email) });
  other = await f.held({ userId: agent.id, recipient: agent.email, raw: await newsletter(agent.email) });
});
afterAll(async () => {
  await f?.server.stop();
});

/** The server key (outside the database) tickets are bound to. */
const key = () => f.server.mailward.services.secretKey;

/** What a browser's frame navigation accepts. */
const NAVIGATION_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";

/** Loads a URL as an iframe does: no cookie, no Authorization header, a navigation's Accept. */
async function load(url: string, accept = NAVIGATION_ACCEPT) {
  const res = await fetch(`${f.server.baseUrl}${url}`, { headers: { accept } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function previewUrlOf(
  client: typeof agent.client,
  path: string,
  images: "block" | "show" = "block",
): Promise<string> {
  const res = await client.request("GET", `${path}?images=${images}`);
  expect(res.status).toBe(200);
  const url = res.json.previewUrl;
  if (typeof url !== "string") throw new Error(`no previewUrl in ${path}`);
  return url;
}

describe("preview URLs with a ticket", () => {
  it.each([
    ["held", () => `/api/held/${held.id}`],
    ["archived", () => `/api/archive/${held.messageId}`],
  ])(
    "serve a %s message's preview without a session, with its own CSP: https images only once asked",
    async (_kind, path) => {
      const blocked = await load(await previewUrlOf(agent.client, path()));
      expect(blocked.status).toBe(200);
      expect(blocked.headers.get("content-type")).toContain("text/html");
      const csp = blocked.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'; img-src data: cid:;");
      expect(csp).toContain(`frame-ancestors ${OFFICE_FRAME_ANCESTORS.join(" ")}`);
      expect(csp).toMatch(/; sandbox$/);
      expect(blocked.headers.get("referrer-policy")).toBe("no-referrer");
      expect(blocked.headers.get("x-frame-options")).toBeNull();
      expect(blocked.text).toContain("garden furniture");
      expect(blocked.text).toContain('data-mw-blocked="remote"');
      expect(blocked.text).not.toMatch(/\ssrc="https:\/\/img/);

      const shown = await load(await previewUrlOf(agent.client, path(), "show"));
      expect(shown.status).toBe(200);
      expect(shown.headers.get("content-security-policy")).toContain("img-src data: cid: https:;");
      expect(shown.text).toContain('src="https://img.held.example/banner.png"');
      // A tracking pixel stays out, even with images shown.
      expect(shown.text).not.toContain("pixel.held.example");
    },
  );

  it("refuse anything but the preview the ticket was made for (401)", async () => {
    const url = await previewUrlOf(agent.client, `/api/held/${held.id}`);
    const ticket = new URL(url, "http://x").searchParams.get("ticket") ?? "";
    const [payload = "", mac = ""] = ticket.split(".");
    const flipped = url.replace("images=block", "images=show");
    const elsewhere = url.replace(held.id, other.id);
    const asArchive = url.replace(`/api/held/${held.id}`, `/api/archive/${held.messageId}`);
    const forged = url.replace(mac, `${mac.slice(0, -2)}AA`);
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    const longer = Buffer.from(JSON.stringify({ ...claims, exp: Date.now() + 86_400_000 })).toString(
      "base64url",
    );
    for (const bad of [flipped, elsewhere, asArchive, forged, url.replace(payload, longer)]) {
      const res = await load(bad);
      expect(res.status, bad).toBe(401);
      expect(res.text).not.toContain("garden furniture");
      // The frame shows the person what to do, not a JSON body, under the preview's own CSP.
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(res.headers.get("content-security-policy")).toContain("default-src 'none'; img-src data: cid:;");
      expect(res.text).toContain('data-error="unauthenticated"');
      expect(res.text).toContain("This preview has expired. Open the message again to see it.");
    }
    // Without a ticket and without a session: still sign-in only.
    const unsigned = await load(`/api/held/${held.id}/preview`);
    expect(unsigned.status).toBe(401);
    expect(unsigned.text).toContain('data-error="unauthenticated"');
    // A malformed request too (validation runs before anything else). A program asking for JSON gets JSON, and a JSON
    // route answers JSON even to a navigation.
    const program = await load(url.replace(payload, longer), "application/json");
    expect([program.status, JSON.parse(program.text).error]).toEqual([401, "unauthenticated"]);
    const invalid = await load(url.replace("images=block", "images=%3Cb%3Eall%3C%2Fb%3E"));
    expect(invalid.status).toBe(400);
    expect(invalid.text).toContain('data-error="invalid_request"');
    expect(invalid.text).not.toContain("<b>");
    const json = await load(`/api/held/${held.id}`);
    expect([json.status, JSON.parse(json.text).error]).toEqual([401, "unauthenticated"]);
  });

  it("cannot be made with what the database holds alone (the key is bound to the server key)", async () => {
    const url = await previewUrlOf(agent.client, `/api/held/${held.id}`);
    const ticket = new URL(url, "http://x").searchParams.get("ticket") ?? "";
    const [payload = ""] = ticket.split(".");
    const stored = await storedTenantSecret(f.db, f.tenantId, "preview-tickets");
    const forgedMac = createHmac("sha256", stored).update(`preview-ticket|${payload}`).digest("base64url");
    const forged = await load(url.replace(ticket, `${payload}.${forgedMac}`));
    expect(forged.status).toBe(401);
    expect(forged.text).not.toContain("garden furniture");
    expect((await load(url)).status).toBe(200);
  });

  it("expire after a few minutes", async () => {
    const url = await previewUrlOf(agent.client, `/api/held/${held.id}`);
    const ticket = new URL(url, "http://x").searchParams.get("ticket") ?? "";
    const target = { kind: "held", id: held.id, images: false } as const;
    const soon = new Date(Date.now() + PREVIEW_TICKET_TTL_MS - 60_000);
    expect((await redeemPreviewTicket(f.db, ticket, target, soon, key())).userId).toBe(agent.id);
    const late = new Date(Date.now() + PREVIEW_TICKET_TTL_MS + 60_000);
    await expect(redeemPreviewTicket(f.db, ticket, target, late, key())).rejects.toMatchObject({
      id: "unauthenticated",
    });
  });

  it("stop working when the session that asked for them signs out", async () => {
    const person = await f.user();
    const mine = await f.held({
      userId: person.id,
      recipient: person.email,
      raw: await newsletter(person.email),
    });
    const url = await previewUrlOf(person.client, `/api/held/${mine.id}`);
    expect((await load(url)).status).toBe(200);
    expect((await person.client.request("POST", "/api/auth/logout", {})).status).toBe(200);
    expect((await load(url)).status).toBe(401);
  });

  it("stop working when the person may no longer see the message (404), or is disabled (401)", async () => {
    const person = await f.user();
    const mine = await f.held({
      userId: person.id,
      recipient: person.email,
      raw: await newsletter(person.email),
    });
    const url = await previewUrlOf(person.client, `/api/held/${mine.id}`);
    await f.db.updateTable("held_items").set({ user_id: agent.id }).where("id", "=", mine.id).execute();
    expect((await load(url)).status).toBe(404);
    await f.db.updateTable("held_items").set({ user_id: person.id }).where("id", "=", mine.id).execute();
    expect((await load(url)).status).toBe(200);
    await f.db.updateTable("users").set({ disabled_at: new Date() }).where("id", "=", person.id).execute();
    expect((await load(url)).status).toBe(401);
  });

  it("are audited once, with the detail that gave them, when someone else's message is looked at", async () => {
    const admin = await f.user({ roles: ["security_admin"] });
    const before = (await auditEvents(f.db, f.tenantId, "held.view_other")).length;
    const url = await previewUrlOf(admin.client, `/api/held/${held.id}`);
    expect((await load(url)).status).toBe(200);
    expect((await load(url)).status).toBe(200);
    const events = await auditEvents(f.db, f.tenantId, "held.view_other");
    expect(events.slice(before).map((e) => [e.actor_id, e.target_id])).toEqual([[admin.id, held.id]]);
    // The preview route used with a session (not a ticket) is a view of its own, audited as before.
    expect((await admin.client.request("GET", `/api/held/${held.id}/preview`)).status).toBe(200);
    expect((await auditEvents(f.db, f.tenantId, "held.view_other")).length).toBe(before + 2);
  });
});
