import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { capturingLogger } from "../../support/logger";
import { startGraphTestKit, type GraphTestKit } from "./kit";
import { graphStartOptions, graphTestEnv } from "./harness";

// Graph refuses subscriptions whose notification URL is not https://: the operator is told at start, not left with
// a connector that watches nothing.
let kit: GraphTestKit | null = null;
let server: TestServer | null = null;
afterEach(async () => {
  await server?.stop();
  await kit?.close();
  server = null;
  kit = null;
});

async function startedWith(webhookBase: string): Promise<string> {
  kit = await startGraphTestKit();
  const logged = capturingLogger("info");
  server = await startTestServer(graphTestEnv(kit), {
    ...graphStartOptions(kit),
    graph: { ...graphStartOptions(kit).graph, webhookBaseUrl: () => webhookBase },
    logger: logged.logger,
  });
  return logged.lines.join("");
}

describe("the Graph notification URL", () => {
  it("is reported at start when it is not https, with the setting that fixes it", async () => {
    const log = await startedWith("http://mailward.contoso.test");
    expect(log).toContain("Graph accepts only https:// notification URLs");
    expect(log).toContain("MAILWARD_GRAPH_NOTIFICATION_URL");
  });

  it("is not reported when it is https", async () => {
    const log = await startedWith("https://mailward.contoso.test");
    expect(log).toContain("graph connector started");
    expect(log).not.toContain("Graph accepts only https://");
  });
});
