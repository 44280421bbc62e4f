import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGraphKit, type GraphKit } from "./graph-kit";

// GET /domains/{id} as Graph documents it: the directory's domain with isVerified, Graph's 404 for a name the
// directory does not have, and Domain.Read.All (or a higher permission) to read it.
type ErrorBody = { error: { code: string; message: string } };

let kit: GraphKit;

beforeAll(async () => {
  kit = await startGraphKit({
    domains: [{ id: "Contoso.test" }, { id: "pending.contoso.test", isVerified: false }],
  });
});
afterAll(async () => {
  await kit?.close();
});

describe("Graph fake: GET /domains/{id}", () => {
  it("answers a domain of the directory, by any case, with whether Microsoft has verified it", async () => {
    const verified = await kit.call("GET", "/domains/CONTOSO.test");
    expect(verified.status).toBe(200);
    expect(verified.json).toMatchObject({
      "@odata.context": expect.stringMatching(/\$metadata#domains\/\$entity$/),
      id: "contoso.test",
      isVerified: true,
      supportedServices: ["Email", "OfficeCommunicationsOnline"],
    });
    const pending = await kit.call("GET", "/domains/pending.contoso.test");
    expect(pending.json).toMatchObject({
      id: "pending.contoso.test",
      isVerified: false,
      supportedServices: [],
    });
    kit.graph.addDomain({ id: "pending.contoso.test" });
    expect((await kit.call("GET", "/domains/pending.contoso.test")).json).toMatchObject({ isVerified: true });
  });

  it("is Graph's 404 for a domain the directory does not have", async () => {
    const missing = await kit.call("GET", "/domains/fabrikam.test");
    expect(missing.status).toBe(404);
    expect((missing.json as ErrorBody).error.code).toBe("Request_ResourceNotFound");
  });

  it("needs Domain.Read.All, Domain.ReadWrite.All or Directory.Read.All", async () => {
    const mailOnly = await kit.entra.mintGraphToken({ roles: ["Mail.ReadWrite", "User.Read.All"] });
    const denied = await kit.call("GET", "/domains/contoso.test", { token: mailOnly });
    expect(denied.status).toBe(403);
    expect((denied.json as ErrorBody).error.code).toBe("ErrorAccessDenied");
    for (const role of ["Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All"]) {
      const token = await kit.entra.mintGraphToken({ roles: [role] });
      expect((await kit.call("GET", "/domains/contoso.test", { token })).status, role).toBe(200);
    }
  });
});
