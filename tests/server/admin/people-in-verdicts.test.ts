import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliCommand } from "../../../server/cli/commands";
import { pipelineFor } from "../../../server/mail/pipeline/index";
import { startTestServer, type TestServer } from "../../support/server";
import type { ApiClient } from "../../support/http";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

// The gateway's display-name impersonation check compares senders with the organisation's active people. It keeps
// them in a cached profile: a new colleague, or one disabled or enabled again, must count from the next message.
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: ApiClient;

/** The people the gateway's verdicts know, as it has them cached now. */
const peopleAtGateway = async () =>
  (await pipelineFor(server.mailward.services).directory.profile(world.tenantId)).context.people.map(
    (p) => p.email,
  );

beforeAll(async () => {
  server = await startTestServer();
  world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
  tenantAdmin = (await world.login(["tenant_admin"])).client;
});

afterAll(async () => {
  await server?.stop();
});

describe("the people the gateway's verdicts know", () => {
  it("include a colleague from the moment they are invited, and follow their disabling and enabling", async () => {
    expect(await peopleAtGateway()).not.toContain("finance.lead@example.com"); // cached from here
    const invited = await tenantAdmin.request("POST", "/api/admin/users", {
      email: "finance.lead@example.com",
      displayName: "Fiona Finance",
    });
    expect(invited.status).toBe(201);
    expect(await peopleAtGateway()).toContain("finance.lead@example.com");
    const id = (invited.json as { id: string }).id;
    expect((await tenantAdmin.request("POST", `/api/admin/users/${id}/disable`)).status).toBe(200);
    expect(await peopleAtGateway()).not.toContain("finance.lead@example.com");
    expect((await tenantAdmin.request("POST", `/api/admin/users/${id}/enable`)).status).toBe(200);
    expect(await peopleAtGateway()).toContain("finance.lead@example.com");
  });

  it("include someone added from the command line at once", async () => {
    expect(await peopleAtGateway()).not.toContain("cli.person@example.com");
    const lines: string[] = [];
    const code = await runCliCommand(
      server.mailward.services,
      ["user", "add", "cli.person@example.com", "--role", "agent"],
      { print: (l) => lines.push(l) },
      ".",
    );
    expect(code).toBe(0);
    expect(await peopleAtGateway()).toContain("cli.person@example.com");
  });
});
