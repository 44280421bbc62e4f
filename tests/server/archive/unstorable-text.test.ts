import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { grantPermission } from "../../factories";
import { defaultTenant, signedIn } from "./helpers";

// PostgreSQL stores no U+0000 in text or jsonb, and jsonb no half surrogate pair. Such text in a request reached a
// column or an audit event's details and failed the request with a 500; it is refused at validation with a 400 that
// names the field.
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

describe("text PostgreSQL cannot store", () => {
  it("refuses a NUL in an audited search (scope=all) or export query with 400 naming the field", async () => {
    const investigator = await signedIn(db(), server.baseUrl);
    await grantPermission(db(), { tenantId, userId: investigator.id, permission: "archive.read_any" });
    const search = await investigator.client.request("GET", "/api/archive/search?q=invoice%00&scope=all");
    expect(search.status).toBe(400);
    expect(search.json).toMatchObject({
      error: "invalid_request",
      message: expect.stringContaining("query.q"),
    });
    const admin = await signedIn(db(), server.baseUrl, ["tenant_admin"]);
    const exported = await admin.client.request("POST", "/api/archive/export", {
      q: "invoice\u0000",
      format: "mbox",
    });
    expect(exported.status).toBe(400);
    expect(exported.json.details).toEqual([{ path: "q", message: expect.stringMatching(/U\+0000/) }]);
  });

  it("refuses a NUL or half a surrogate pair in a legal hold's name, and takes the same hold without them", async () => {
    const admin = await signedIn(db(), server.baseUrl, ["tenant_admin"]);
    const hold = (name: string) =>
      admin.client.request("POST", "/api/admin/legal-holds", { kind: "query", name, query: "contract" });
    for (const name of ["Case\u00001", "Case \uD800 1"]) {
      const refused = await hold(name);
      expect(refused.status, JSON.stringify(name)).toBe(400);
      expect(refused.json.message).toContain("body.name");
    }
    expect((await hold("Case 1")).status).toBe(201);
  });
});
