import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGraphTestKit, type GraphTestKit } from "./kit";

// What archive-send.ts relies on from Graph's reply/forward, checked on the fake it is tested against.
let kit: GraphTestKit;
const ADELE = "adele@contoso.test";

beforeAll(async () => {
  kit = await startGraphTestKit({ users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }] });
});

afterAll(async () => {
  await kit?.close();
});

describe("Graph fake: reply and forward as Graph documents them", () => {
  const call = async (path: string, body: unknown) => {
    const token = await kit.entra.mintGraphToken();
    const res = await fetch(`${kit.graph.baseUrl}/users/${ADELE}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };

  it("answers 202 with no body, files the copy in the original's conversation, and refuses ambiguous bodies", async () => {
    const original = await kit.graph.deliver(ADELE, {
      from: "dan@fabrikam.test",
      to: [ADELE],
      subject: "Fake check",
      text: "hello",
    });
    const to = [{ emailAddress: { address: "x@outside.test" } }];
    const message = `/messages/${original.immutableId}`;
    expect(await call(`${message}/forward`, { comment: "c", toRecipients: to })).toEqual({
      status: 202,
      text: "",
    });
    const copy = kit.graph.messages(ADELE, "sentitems").find((m) => m.subject === "FW: Fake check");
    const conversation = async (id: string) => {
      const token = await kit.entra.mintGraphToken();
      const res = await fetch(`${kit.graph.baseUrl}/users/${ADELE}/messages/${id}?$select=conversationId`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await res.json()) as { conversationId: string }).conversationId;
    };
    expect(await conversation(copy?.restId ?? "")).toBe(await conversation(original.restId));
    const both = { comment: "c", message: { body: { contentType: "Text", content: "b" } } };
    expect((await call(`${message}/reply`, both)).status).toBe(400);
    expect((await call(`${message}/forward`, { ...both, toRecipients: to })).status).toBe(400);
    const twice = { comment: "c", toRecipients: to, message: { toRecipients: to } };
    expect((await call(`${message}/forward`, twice)).status).toBe(400);
    expect((await call(`${message}/forward`, { comment: "c" })).status).toBe(400);
  });
});
