import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startGraphKit,
  startWebhookReceiver,
  type GraphCallResult,
  type GraphKit,
  type WebhookReceiver,
} from "./graph-kit";

// Graph documents every user-scoped path as /users/{id | userPrincipalName}/...: a mail address that is not the
// user's sign-in name names nobody, and Exchange answers 404 ErrorInvalidUser. Nestor signs in as
// nwilke@contoso.onmicrosoft.com but receives mail as nestor@contoso.test, as in tenants that kept the
// onmicrosoft.com sign-in names after adding their own domain.
type GraphErrorBody = { error: { code: string; message: string } };
type BatchBody = { responses: Array<{ id: string; status: number; body: GraphErrorBody }> };

const NESTOR_UPN = "nwilke@contoso.onmicrosoft.com";
const NESTOR_MAIL = "nestor@contoso.test";

let kit: GraphKit;
let hook: WebhookReceiver;
let nestorId: string;
let messageId: string;
let internetMessageId: string;

beforeAll(async () => {
  kit = await startGraphKit({ users: [{ userPrincipalName: NESTOR_UPN, mail: NESTOR_MAIL }] });
  hook = await startWebhookReceiver();
  nestorId = kit.graph.user(NESTOR_UPN).id;
  const delivered = await kit.graph.deliver(NESTOR_UPN, {
    from: "carol@partner.test",
    to: [NESTOR_MAIL],
    subject: "Invoice",
    text: "Please pay.",
  });
  messageId = delivered.immutableId;
  internetMessageId = delivered.internetMessageId;
});
afterAll(async () => {
  await kit?.close();
  await hook?.close();
});

/** Every kind of mailbox request the product makes, for one key naming the user. */
function mailboxCalls(key: string): Array<[string, () => Promise<GraphCallResult>]> {
  const user = `/users/${encodeURIComponent(key)}`;
  return [
    ["list messages", () => kit.call("GET", `${user}/messages`)],
    ["read a message", () => kit.call("GET", `${user}/messages/${messageId}`, { immutable: true })],
    ["read a folder", () => kit.call("GET", `${user}/mailFolders('inbox')`)],
    ["list folders", () => kit.call("GET", `${user}/mailFolders`)],
    ["delta", () => kit.call("GET", `${user}/mailFolders/inbox/messages/delta`)],
    ["inbox rules", () => kit.call("GET", `${user}/mailFolders/inbox/messageRules`)],
    [
      "copy a message",
      () =>
        kit.call("POST", `${user}/messages/${messageId}/copy`, {
          immutable: true,
          body: { destinationId: "archive" },
        }),
    ],
  ];
}

function expectInvalidUser(result: GraphCallResult, key: string, what: string): void {
  expect(result.status, what).toBe(404);
  expect((result.json as GraphErrorBody).error, what).toEqual(
    expect.objectContaining({ code: "ErrorInvalidUser", message: `The requested user '${key}' is invalid.` }),
  );
}

describe("Graph fake: the user a mailbox path names", () => {
  it("answers 404 ErrorInvalidUser to a mail address that is not the userPrincipalName", async () => {
    for (const [what, call] of mailboxCalls(NESTOR_MAIL)) expectInvalidUser(await call(), NESTOR_MAIL, what);
  });

  it("finds the mailbox by object id or userPrincipalName, in any case", async () => {
    for (const key of [nestorId, nestorId.toUpperCase(), NESTOR_UPN, NESTOR_UPN.toUpperCase()]) {
      for (const [what, call] of mailboxCalls(key)) {
        const result = await call();
        expect(result.status, `${what} as ${key}`).toBeLessThan(300);
      }
    }
  });

  it("sends nothing for sendMail addressed by the mail address, and sends for the userPrincipalName", async () => {
    const message = {
      subject: "Hello",
      body: { contentType: "Text", content: "Hi." },
      toRecipients: [{ emailAddress: { address: "carol@partner.test" } }],
    };
    const byMail = await kit.call("POST", `/users/${NESTOR_MAIL}/sendMail`, { body: { message } });
    expectInvalidUser(byMail, NESTOR_MAIL, "sendMail");
    expect(kit.graph.sentMail).toHaveLength(0);
    const byUpn = await kit.call("POST", `/users/${NESTOR_UPN}/sendMail`, { body: { message } });
    expect(byUpn.status).toBe(202);
    expect(kit.graph.sentMail).toHaveLength(1);
  });

  it("moves nothing for a move addressed by the mail address", async () => {
    const move = (key: string) =>
      kit.call("POST", `/users/${key}/messages/${messageId}/move`, {
        immutable: true,
        body: { destinationId: "junkemail" },
      });
    expectInvalidUser(await move(NESTOR_MAIL), NESTOR_MAIL, "move");
    expect(kit.graph.findMessage(NESTOR_UPN, internetMessageId)?.folderName).toBe("inbox");
    expect((await move(nestorId)).status).toBe(201);
  });

  it("answers a $batch sub-request naming the mail address on its own, as a 404 ErrorInvalidUser", async () => {
    const batch = await kit.call("POST", "/$batch", {
      body: {
        requests: [
          { id: "1", method: "GET", url: `/users/${NESTOR_MAIL}/mailFolders/inbox` },
          { id: "2", method: "GET", url: `/users/${NESTOR_UPN}/mailFolders/inbox` },
        ],
      },
    });
    const responses = (batch.json as BatchBody).responses;
    expect(responses.map((response) => [response.id, response.status])).toEqual([
      ["1", 404],
      ["2", 200],
    ]);
    expect(responses[0]?.body.error.code).toBe("ErrorInvalidUser");
  });
});

describe("Graph fake: the user a subscription resource names", () => {
  const subscribe = (key: string) =>
    kit.call("POST", "/subscriptions", {
      body: {
        changeType: "created",
        notificationUrl: `${hook.url}/api/graph/notifications`,
        resource: `users/${key}/mailFolders('inbox')/messages`,
        expirationDateTime: new Date(Date.now() + 60 * 60_000).toISOString(),
        clientState: "s3cret-state",
      },
    });

  it("refuses a resource naming the mail address, and creates none", async () => {
    const refused = await subscribe(NESTOR_MAIL);
    expect(refused.status).toBe(400);
    expect((refused.json as GraphErrorBody).error.message).toContain(
      `The requested user '${NESTOR_MAIL}' is invalid.`,
    );
    expect(kit.graph.subscriptions()).toHaveLength(0);
  });

  it("subscribes by object id or userPrincipalName", async () => {
    for (const key of [nestorId, NESTOR_UPN.toUpperCase()]) {
      const created = await subscribe(key);
      expect(created.status, key).toBe(201);
      const stored = kit.graph.subscriptions().find((subscription) => subscription.id === created.json.id);
      expect(stored?.userId, key).toBe(nestorId);
    }
  });
});
