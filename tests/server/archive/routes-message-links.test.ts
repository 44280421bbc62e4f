import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archiveMessage } from "../../../shared/schemas/archive";
import { startTestServer, type TestServer } from "../../support/server";
import { defaultTenant, fileFor, mimeMessage, signedIn } from "./helpers";

// Links in the sandboxed preview open nothing, so the archive detail lists where each one really goes, as the
// held detail does: a reader can see that a link showing one domain leads to another.
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

describe("GET /api/archive/:id links", () => {
  it("lists each link of the HTML body with its real target, not the domain its text shows", async () => {
    const alice = await signedIn(db(), server.baseUrl);
    const filed = await fileFor(
      db(),
      tenantId,
      mimeMessage({
        to: alice.email,
        subject: "Your password expires today",
        text: "Your password expires today.",
        html:
          '<p>Reset it at <a href="https://login.evil.example/reset?u=1&amp;x=2">https://portal.office.com</a>' +
          ' or <a href="javascript:alert(1)">here</a>.</p>',
      }),
      [alice],
    );

    const res = await alice.client.request("GET", `/api/archive/${filed.id}`);
    expect(res.status).toBe(200);
    expect(archiveMessage.parse(res.json).links).toEqual([
      { text: "https://portal.office.com", href: "https://login.evil.example/reset?u=1&x=2" },
    ]);
  });

  it("lists no links for a text-only message", async () => {
    const alice = await signedIn(db(), server.baseUrl);
    const filed = await fileFor(
      db(),
      tenantId,
      mimeMessage({ to: alice.email, subject: "Plain", text: "See https://outside.example/a" }),
      [alice],
    );

    const res = await alice.client.request("GET", `/api/archive/${filed.id}`);
    expect(res.status).toBe(200);
    expect(res.json.links).toEqual([]);
  });
});
