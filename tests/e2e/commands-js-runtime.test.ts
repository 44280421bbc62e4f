import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEntraFake, type EntraFake, type FakeEntraUser } from "../fakes/entra";
import { tenantOfDomain } from "../factories";
import { rawMessage } from "../server/mail/gateway/helpers";
import { entraEnv } from "../server/auth/entra-env";
import { ApiClient } from "../support/http";
import { startTestServer, type TestServer } from "../support/server";
import { signedInPerson } from "../support/sign-in";
import { buildEntraCommands } from "./support/entra-commands-build";
import { loadInJsOnlyRuntime, type GetAccessToken, type RuntimeMessage } from "./support/js-only-runtime";

/**
 * The built commands.js in classic Outlook's JavaScript-only runtime (the Report button and the function commands):
 * no DOM, no storage, no nested app auth, only `Office`, `OfficeRuntime.auth` and standard JavaScript. It is built
 * with Entra sign-in baked in and run in a bare `node:vm` context against a real Mailward configured for Entra;
 * only Microsoft's cloud is faked: the Entra fake mints the token Office's SSO would hand over.
 */

/** Microsoft Office's documented SSO client id (desktop, including classic Outlook): the `azp` of Office's token. */
const OFFICE_DESKTOP_CLIENT_ID = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
/** The person signed in to Outlook, as the directory knows them. */
const MEGAN: FakeEntraUser = {
  oid: "00000000-0000-4000-8000-0000000be9a1",
  preferredUsername: "megan@contoso.test",
  name: "Megan Bowen",
};
const ADMIN_PASSWORD = "security admin passphrase";
/** Globals a browser page has and the JavaScript-only runtime does not (nor Node's). */
const ABSENT_GLOBALS = [
  "window",
  "self",
  "document",
  "location",
  "localStorage",
  "navigator",
  "process",
  "require",
];

let entra: EntraFake;
let server: TestServer;
let commandsJs: string;
let securityAdmin: ApiClient;

/** A message from `from` to Megan, as Outlook would have it open. */
function openMessage(from: string, subject: string): RuntimeMessage {
  const { raw, messageId } = rawMessage({
    from: `Prize Desk <${from}>`,
    to: MEGAN.preferredUsername,
    subject,
  });
  return {
    from,
    name: "Prize Desk",
    subject,
    internetMessageId: messageId,
    itemId: `AAMkAG${randomBytes(12).toString("base64")}`,
    eml: raw,
  };
}

/** Office's SSO when Megan is signed in to Office: a real token from the Entra fake, for our API, client Office. */
const officeSsoToken: GetAccessToken = () => entra.mintAccessToken({ azp: OFFICE_DESKTOP_CLIENT_ID });

/** An API client carrying a token for Megan, as the task pane would. */
async function asMegan(): Promise<ApiClient> {
  const client = new ApiClient(server.baseUrl);
  client.bearer = await entra.mintAccessToken();
  return client;
}

interface TriageJson {
  id: string;
  kind: string;
  reporters: string[];
  notes: string[];
  message: { subject: string; from: string } | null;
}

async function reportsAbout(subject: string): Promise<TriageJson[]> {
  const res = await securityAdmin.request("GET", "/api/admin/reports?status=open&limit=100");
  expect(res.status).toBe(200);
  return (res.json.items as TriageJson[]).filter((item) => item.message?.subject === subject);
}

beforeAll(async () => {
  entra = await startEntraFake({ users: [MEGAN] });
  server = await startTestServer(entraEnv(entra));
  // The server must be up first: the build bakes in its URL, as MAILWARD_PUBLIC_URL names the deployment.
  ({ code: commandsJs } = await buildEntraCommands({
    clientId: entra.apiClientId,
    publicUrl: server.baseUrl,
  }));
  const db = server.mailward.services.db;
  ({ client: securityAdmin } = await signedInPerson(db, server.baseUrl, {
    tenantId: await tenantOfDomain(db),
    email: "secops@example.com",
    password: ADMIN_PASSWORD,
    roles: ["security_admin"],
  }));
});

afterAll(async () => {
  await server?.stop();
  await entra?.close();
});

describe("commands.js in classic Outlook's JavaScript-only runtime, with Office's SSO token", () => {
  it("reportSpam: the report reaches Mailward as Megan, and Outlook moves the message to Junk once", async () => {
    const message = openMessage("offers@spam.example", `Claim your prize ${randomBytes(3).toString("hex")}`);
    const runtime = loadInJsOnlyRuntime(commandsJs, { message, getAccessToken: officeSsoToken });
    for (const name of ABSENT_GLOBALS) expect(runtime.typeOf(name), name).toBe("undefined");
    expect(runtime.associated().sort()).toEqual(["blockSender", "permitSender", "reportPhish", "reportSpam"]);

    const outcome = await runtime.run("reportSpam", {
      options: [false, true],
      freeText: "  Fake prize again  ",
    });

    expect(outcome.completedCalls).toBe(1);
    expect(outcome.completedOptions[0]).toEqual({
      moveItemTo: "junkFolder",
      onErrorDeleteItem: false,
      showPostProcessingDialog: {
        title: "Mailward",
        description: expect.stringContaining("Mailward sent this spam report to your security team"),
      },
    });
    expect(runtime.tokenRequests).toEqual([{ allowSignInPrompt: true, allowConsentPrompt: true }]);
    const [report, ...others] = await reportsAbout(message.subject);
    expect(others).toEqual([]);
    expect(report).toMatchObject({
      kind: "spam",
      reporters: [MEGAN.preferredUsername],
      notes: ["Fake prize again"],
      message: { from: "offers@spam.example" },
    });
    const reporter = await server.mailward.services.db
      .selectFrom("reports")
      .innerJoin("users", "users.id", "reports.reporter_id")
      .select("users.entra_oid")
      .where("reports.id", "=", report?.id ?? "")
      .executeTakeFirstOrThrow();
    expect(reporter.entra_oid).toBe(MEGAN.oid);
  });

  it("blockSender: the rule is Megan's own, in GET /api/senders, and the notification says so", async () => {
    const message = openMessage("Winner@Lottery.example", "You are our winner");
    const runtime = loadInJsOnlyRuntime(commandsJs, { message, getAccessToken: officeSsoToken });

    const outcome = await runtime.run("blockSender");

    expect(outcome.completedCalls).toBe(1);
    expect(outcome.completedOptions).toEqual([null]);
    expect(outcome.notifications).toEqual([
      {
        key: "mailward",
        type: "informationalMessage",
        message: expect.stringMatching(/^Blocked winner@lottery\.example\. /),
      },
    ]);
    const res = await (await asMegan()).request("GET", "/api/senders?kind=block&limit=100");
    expect(res.status).toBe(200);
    expect(res.json.items).toEqual([
      expect.objectContaining({ pattern: "winner@lottery.example", kind: "block", scope: "user" }),
    ]);
  });

  it("reportSpam when Office's SSO fails (13001, not signed in) and there is no dialog API: Junk, and says not sent", async () => {
    const message = openMessage("offers@spam.example", `Not signed in ${randomBytes(3).toString("hex")}`);
    const notSignedIn: GetAccessToken = () =>
      Promise.reject(Object.assign(new Error("The user is not signed in to Office."), { code: 13001 }));
    const runtime = loadInJsOnlyRuntime(commandsJs, { message, getAccessToken: notSignedIn });
    expect(runtime.typeOf("Office.context.ui")).toBe("undefined");

    const outcome = await runtime.run("reportSpam", { options: [false, true], freeText: "" });

    expect(outcome.completedCalls).toBe(1);
    expect(outcome.completedOptions[0]).toMatchObject({
      moveItemTo: "junkFolder",
      showPostProcessingDialog: { description: expect.stringContaining("could not be sent") },
    });
    expect(runtime.tokenRequests).toHaveLength(1);
    expect(await reportsAbout(message.subject)).toEqual([]);
  });
});
