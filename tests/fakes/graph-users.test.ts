import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGraphKit, type GraphKit } from "./graph-kit";

// GET /users/{id | userPrincipalName} and GET /users?$filter=mail eq '...' as Graph documents them: the directory
// read finds a user by object id or sign-in name, not by a mail address that differs from it.
type ErrorBody = { error: { code: string } };
type UserList = { value: Array<{ id: string; mail: string; userPrincipalName: string }> };

let kit: GraphKit;
let nestorId: string;

beforeAll(async () => {
  kit = await startGraphKit({
    users: [
      { userPrincipalName: "nwilke@contoso.onmicrosoft.com", mail: "nestor@contoso.test" },
      { userPrincipalName: "scanner@contoso.test", mailbox: false },
    ],
  });
  nestorId = kit.graph.user("nwilke@contoso.onmicrosoft.com").id;
});
afterAll(async () => {
  await kit?.close();
});

describe("Graph fake: reading a user", () => {
  it("finds a user by object id or userPrincipalName, in any case", async () => {
    for (const key of [nestorId, "NWilke@contoso.onmicrosoft.com"]) {
      const found = await kit.call("GET", `/users/${encodeURIComponent(key)}`);
      expect(found.status, key).toBe(200);
      expect(found.json).toMatchObject({ id: nestorId, mail: "nestor@contoso.test" });
    }
  });

  it("is Graph's 404 for a mail address that is not the sign-in name", async () => {
    const missing = await kit.call("GET", `/users/${encodeURIComponent("nestor@contoso.test")}`);
    expect(missing.status).toBe(404);
    expect((missing.json as ErrorBody).error.code).toBe("Request_ResourceNotFound");
  });

  it("lists the user whose mail matches a $filter", async () => {
    const listed = await kit.call(
      "GET",
      `/users?$filter=${encodeURIComponent("mail eq 'nestor@contoso.test'")}`,
    );
    expect(listed.status).toBe(200);
    expect((listed.json as UserList).value.map((u) => u.id)).toEqual([nestorId]);
    const none = await kit.call(
      "GET",
      `/users?$filter=${encodeURIComponent("mail eq 'nobody@contoso.test'")}`,
    );
    expect((none.json as UserList).value).toEqual([]);
  });

  it("lists a user without a mailbox with mail null, and answers their mailbox paths MailboxNotEnabledForRESTAPI", async () => {
    const user = await kit.call("GET", `/users/${encodeURIComponent("scanner@contoso.test")}`);
    expect(user.json).toMatchObject({ mail: null, proxyAddresses: [] });
    const inbox = await kit.call(
      "GET",
      `/users/${encodeURIComponent("scanner@contoso.test")}/mailFolders/inbox`,
    );
    expect(inbox.status).toBe(404);
    expect((inbox.json as ErrorBody).error.code).toBe("MailboxNotEnabledForRESTAPI");
  });
});
