import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { buildArchivedMessage, grantPermission } from "../../factories";
import { defaultTenant, mimeMessage, signedIn, uniqueWord } from "./helpers";

// A message held in a person's quarantine is also in their archive (folder quarantine). Forwarding, replying to or
// downloading it there took it out past the hold: an agent refused the release of a phishing hold could forward it,
// attachment and all, to any address. Taking it out now follows the release rule.
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

type Person = Awaited<ReturnType<typeof signedIn>>;

async function fetchStatus(person: Person, path: string): Promise<number> {
  const res = await fetch(`${server.baseUrl}${path}`, {
    headers: { cookie: `mw_session=${person.client.cookie("mw_session") ?? ""}` },
  });
  await res.arrayBuffer();
  return res.status;
}

/** A message with an attachment, held for `person` as `reason`, in their archive's quarantine folder. */
async function heldFor(person: Person, reason: "phish" | "spam") {
  const word = uniqueWord();
  const raw = mimeMessage({
    to: person.email,
    subject: `Verify your account ${word}`,
    text: "Sign in at http://login.evil.example",
    attachments: [
      { filename: "invoice.pdf", content: Buffer.from("%PDF-1.4 test"), contentType: "application/pdf" },
    ],
  });
  const message = await buildArchivedMessage(db(), {
    tenantId,
    raw,
    links: [{ userId: person.id, folder: "quarantine" }],
  });
  const held = await db()
    .insertInto("held_items")
    .values({
      tenant_id: tenantId,
      message_id: message.id,
      user_id: person.id,
      recipient: person.email,
      reason,
      score: 20,
      signals: JSON.stringify([]),
      expires_at: new Date(Date.now() + 14 * 86_400_000),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { messageId: message.id, heldId: held.id };
}

/** The four ways out of the archive, each answered by its status. */
async function takeOut(person: Person, messageId: string) {
  return {
    forward: (
      await person.client.request("POST", `/api/archive/${messageId}/forward`, { to: ["me@outside.example"] })
    ).status,
    reply: (await person.client.request("POST", `/api/archive/${messageId}/reply`, { text: "Is this real?" }))
      .status,
    raw: await fetchStatus(person, `/api/archive/${messageId}/raw`),
    attachment: await fetchStatus(person, `/api/archive/${messageId}/attachments/0`),
  };
}

const queuedFor = async (messageId: string) =>
  db().selectFrom("deliveries").select("id").where("message_id", "=", messageId).execute();

describe("taking a quarantined message out through the archive", () => {
  it("refuses an agent every way out of a phishing hold, as the release is refused, and still shows it", async () => {
    const agent = await signedIn(db(), server.baseUrl);
    const { messageId, heldId } = await heldFor(agent, "phish");
    const release = await agent.client.request("POST", `/api/held/${heldId}/release`);
    expect(release.status).toBe(403);
    expect(release.json.error).toBe("release_not_allowed");

    const forward = await agent.client.request("POST", `/api/archive/${messageId}/forward`, {
      to: ["me@outside.example"],
    });
    expect(forward.status).toBe(403);
    expect(forward.json).toMatchObject({
      error: "release_not_allowed",
      message: expect.stringMatching(/Request a release/),
    });
    expect(await takeOut(agent, messageId)).toEqual({ forward: 403, reply: 403, raw: 403, attachment: 403 });
    expect(await queuedFor(messageId)).toEqual([]);
    expect((await agent.client.request("GET", `/api/archive/${messageId}`)).status).toBe(200);

    // Reading others' mail on purpose (archive.read_any) is an investigation, which the hold does not limit.
    const investigator = await signedIn(db(), server.baseUrl);
    await grantPermission(db(), { tenantId, userId: investigator.id, permission: "archive.read_any" });
    expect(await fetchStatus(investigator, `/api/archive/${messageId}/raw`)).toBe(200);
  });

  it("lets an agent take out a spam hold, which they may release themselves", async () => {
    const agent = await signedIn(db(), server.baseUrl);
    const { messageId } = await heldFor(agent, "spam");
    expect(await takeOut(agent, messageId)).toEqual({ forward: 202, reply: 202, raw: 200, attachment: 200 });
  });

  it("lets the agent take it out once a security admin released it", async () => {
    const agent = await signedIn(db(), server.baseUrl);
    const security = await signedIn(db(), server.baseUrl, ["security_admin"]);
    const { messageId, heldId } = await heldFor(agent, "phish");
    expect(await fetchStatus(agent, `/api/archive/${messageId}/raw`)).toBe(403);
    expect((await security.client.request("POST", `/api/held/${heldId}/release`)).status).toBe(200);
    expect(await fetchStatus(agent, `/api/archive/${messageId}/raw`)).toBe(200);
    expect(await fetchStatus(agent, `/api/archive/${messageId}/attachments/0`)).toBe(200);
  });
});
