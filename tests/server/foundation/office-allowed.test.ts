import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { OFFICE_ALLOWED_PATH } from "../../../server/http/office-allowed";

// Classic Outlook on Windows runs the Report button's handler from commands.js in a JavaScript-only runtime, which
// may call our API only when the origin lists that script at the well-known URI.
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ MAILWARD_PUBLIC_URL: "https://mailward.contoso.test:8443/" });
});
afterAll(async () => {
  await server.stop();
});

describe("the Office add-ins allowed list", () => {
  it("lists the commands script at the public origin, as the manifest's JavaScript-only runtime loads it", async () => {
    const res = await new ApiClient(server.baseUrl).request("GET", OFFICE_ALLOWED_PATH);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ allowed: ["https://mailward.contoso.test:8443/commands.js"] });
    const manifest = fs.readFileSync("manifest.xml", "utf8");
    const script = /<bt:Url id="CommandsJs\.Url" DefaultValue="([^"]+)"/.exec(manifest)?.[1] ?? "";
    expect(new URL(script).pathname).toBe("/commands.js");
  });
});
