import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGraphFetch, GRAPH_PUBLIC_BASE_URL, startGraphFake } from "./graph";
import { startGraphKit, type GraphKit } from "./graph-kit";

type Item = Record<string, unknown> & { id: string };
type Page = { value: Item[]; "@odata.nextLink"?: string };
type GraphErrorBody = { error: { code: string; message: string } };

let kit: GraphKit;
const ADELE = "adele@contoso.test";

beforeAll(async () => {
  kit = await startGraphKit({ pageSize: 10 });
  for (let index = 0; index < 25; index += 1) {
    await kit.graph.deliver(
      ADELE,
      {
        from: { name: "Sender", address: `sender${index % 3}@external.test` },
        to: [ADELE],
        subject: `Message ${index}`,
        text: `Body ${index}`,
        internetMessageId: `<msg-${index}@external.test>`,
        date: new Date(Date.UTC(2024, 0, 1, 0, index)),
      },
      { receivedDateTime: new Date(Date.UTC(2024, 0, 1, 0, index)) },
    );
  }
});
afterAll(async () => {
  await kit.close();
});

describe("Graph fake: authentication", () => {
  it("answers 401 InvalidAuthenticationToken without a token or with a token not signed by Entra", async () => {
    const missing = await kit.call("GET", `/users/${ADELE}/messages`, { token: null });
    expect(missing.status).toBe(401);
    expect((missing.json as GraphErrorBody).error.code).toBe("InvalidAuthenticationToken");
    const forged = await kit.call("GET", `/users/${ADELE}/messages`, {
      token: await kit.entra.badTokens.unknownKid(),
    });
    expect(forged.status).toBe(401);
    const apiToken = await kit.call("GET", `/users/${ADELE}/messages`, {
      token: await kit.entra.mintAccessToken(),
    });
    expect(apiToken.status).toBe(401);
  });

  it("answers 403 ErrorAccessDenied when the app lacks the permission", async () => {
    const readOnly = await kit.entra.mintGraphToken({ roles: ["User.Read.All"] });
    const result = await kit.call("GET", `/users/${ADELE}/messages`, { token: readOnly });
    expect(result.status).toBe(403);
    expect((result.json as GraphErrorBody).error.code).toBe("ErrorAccessDenied");
  });
});

describe("Graph fake: users and folders", () => {
  it("finds a user by id or userPrincipalName, and 404s an unknown one", async () => {
    const byUpn = await kit.call("GET", `/users/${ADELE}`);
    const byId = await kit.call("GET", `/users/${kit.userId}?$select=displayName`);
    expect(byUpn.json.id).toBe(kit.userId);
    expect(byId.json).toMatchObject({ id: kit.userId, displayName: "Adele Vance" });
    expect("mail" in byId.json).toBe(false);
    const unknown = await kit.call("GET", "/users/nobody@contoso.test/messages");
    expect((unknown.json as GraphErrorBody).error.code).toBe("ErrorInvalidUser");
  });

  it("resolves well-known folder names in both URL syntaxes", async () => {
    const inbox = await kit.call("GET", `/users/${kit.userId}/mailFolders/inbox`);
    const odata = await kit.call("GET", `/users/${kit.userId}/mailFolders('Inbox')`);
    expect(inbox.json).toMatchObject({ displayName: "Inbox", totalItemCount: 25, isHidden: false });
    expect(odata.json.id).toBe(inbox.json.id);
    const junk = await kit.call("GET", `/users/${kit.userId}/mailFolders/junkemail`);
    expect(junk.json.displayName).toBe("Junk Email");
  });

  it("creates a hidden folder that listings hide unless includeHiddenFolders=true", async () => {
    const created = await kit.call("POST", `/users/${kit.userId}/mailFolders`, {
      body: { displayName: "Mailward Quarantine", isHidden: true },
    });
    expect(created.status).toBe(201);
    expect(created.json.isHidden).toBe(true);
    const names = (page: Page): unknown[] => page.value.map((folder) => folder.displayName);
    const visible = await kit.call("GET", `/users/${kit.userId}/mailFolders?$top=50`);
    expect(names(visible.json as Page)).not.toContain("Mailward Quarantine");
    const filtered = await kit.call(
      "GET",
      `/users/${kit.userId}/mailFolders?$filter=displayName eq 'Mailward Quarantine'`,
    );
    expect((filtered.json as Page).value).toHaveLength(0);
    const all = await kit.call("GET", `/users/${kit.userId}/mailFolders?includeHiddenFolders=true&$top=50`);
    expect(names(all.json as Page)).toContain("Mailward Quarantine");
    const direct = await kit.call("GET", `/users/${kit.userId}/mailFolders/${String(created.json.id)}`);
    expect(direct.json.isHidden).toBe(true);
    const again = await kit.call("POST", `/users/${kit.userId}/mailFolders`, {
      body: { displayName: "Mailward Quarantine", isHidden: true },
    });
    expect(again.status).toBe(409);
    expect((again.json as GraphErrorBody).error.code).toBe("ErrorFolderExists");
    const unhide = await kit.call("PATCH", `/users/${kit.userId}/mailFolders/${String(created.json.id)}`, {
      body: { isHidden: false },
    });
    expect(unhide.status).toBe(400);
  });

  it("creates and lists child folders", async () => {
    const child = await kit.call("POST", `/users/${kit.userId}/mailFolders/inbox/childFolders`, {
      body: { displayName: "Receipts" },
    });
    expect(child.status).toBe(201);
    const list = await kit.call("GET", `/users/${kit.userId}/mailFolders/inbox/childFolders`);
    expect((list.json as Page).value.map((folder) => folder.displayName)).toEqual(["Receipts"]);
  });
});

describe("Graph fake: listing messages", () => {
  it("pages with @odata.nextLink (default page size 10, newest first) until the end", async () => {
    const subjects: unknown[] = [];
    let next: string | undefined = `/users/${kit.userId}/mailFolders/inbox/messages`;
    let pages = 0;
    while (next) {
      const page: Page = (await kit.call("GET", next)).json as Page;
      subjects.push(...page.value.map((message) => message.subject));
      next = page["@odata.nextLink"];
      if (next) expect(next.startsWith(kit.graph.baseUrl)).toBe(true);
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(subjects).toHaveLength(25);
    expect(subjects[0]).toBe("Message 24");
    expect(new Set(subjects).size).toBe(25);
  });

  it("honours $top and $select, and refuses an unknown $select property", async () => {
    const page = (
      await kit.call("GET", `/users/${kit.userId}/messages?$top=3&$select=subject,internetMessageId`)
    ).json as Page;
    expect(page.value).toHaveLength(3);
    expect(Object.keys(page.value[0] ?? {}).sort()).toEqual([
      "@odata.etag",
      "id",
      "internetMessageId",
      "subject",
    ]);
    const bad = await kit.call("GET", `/users/${kit.userId}/messages?$select=nope`);
    expect(bad.status).toBe(400);
  });

  it("filters on internetMessageId (angle brackets URL-encoded) and rejects a malformed filter", async () => {
    const filter = encodeURIComponent("internetMessageId eq '<msg-7@external.test>'");
    const page = (await kit.call("GET", `/users/${kit.userId}/messages?$filter=${filter}`)).json as Page;
    expect(page.value.map((message) => message.subject)).toEqual(["Message 7"]);
    const bySender = (
      await kit.call(
        "GET",
        `/users/${kit.userId}/messages?$top=50&$filter=${encodeURIComponent("from/emailAddress/address eq 'sender1@external.test'")}`,
      )
    ).json as Page;
    expect(bySender.value).toHaveLength(8);
    const bad = await kit.call(
      "GET",
      `/users/${kit.userId}/messages?$filter=${encodeURIComponent("subject eqq 'x'")}`,
    );
    expect(bad.status).toBe(400);
  });

  it("serves the MIME at /$value", async () => {
    const found = kit.graph.findMessage(ADELE, "<msg-3@external.test>");
    const response = await kit.call("GET", `/users/${kit.userId}/messages/${found?.restId ?? ""}/$value`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(response.text).toMatch(/^Content-Type|Message-ID|From:/m);
    expect(response.text).toContain("Message-ID: <msg-3@external.test>");
  });
});

describe("Graph fake: move and ids", () => {
  it("without the Prefer header, the id changes on move and the old id is gone", async () => {
    const before = kit.graph.findMessage(ADELE, "<msg-10@external.test>");
    const moved = await kit.call("POST", `/users/${kit.userId}/messages/${before?.restId ?? ""}/move`, {
      body: { destinationId: "junkemail" },
    });
    expect(moved.status).toBe(201);
    expect(moved.json.id).not.toBe(before?.restId);
    expect(moved.json.parentFolderId).toBe(kit.graph.user(ADELE).folderIds.junkemail);
    const stale = await kit.call("GET", `/users/${kit.userId}/messages/${before?.restId ?? ""}`);
    expect(stale.status).toBe(404);
    expect((stale.json as GraphErrorBody).error.code).toBe("ErrorItemNotFound");
    expect((await kit.call("GET", `/users/${kit.userId}/messages/${String(moved.json.id)}`)).status).toBe(
      200,
    );
  });

  it('with Prefer: IdType="ImmutableId", ids are stable across moves (to a hidden folder and back)', async () => {
    const list = (
      await kit.call(
        "GET",
        `/users/${kit.userId}/messages?$filter=${encodeURIComponent("internetMessageId eq '<msg-11@external.test>'")}`,
        { immutable: true },
      )
    ).json as Page;
    const id = list.value[0]?.id ?? "";
    expect(id).toBe(kit.graph.findMessage(ADELE, "<msg-11@external.test>")?.immutableId);
    const quarantine = kit.graph.createFolder(ADELE, "Held", { isHidden: true });
    const held = await kit.call("POST", `/users/${kit.userId}/messages/${id}/move`, {
      body: { destinationId: quarantine.id },
      immutable: true,
    });
    expect(held.json.id).toBe(id);
    const back = await kit.call("POST", `/users/${kit.userId}/messages/${id}/move`, {
      body: { destinationId: "inbox" },
      immutable: true,
    });
    expect(back.json).toMatchObject({ id, parentFolderId: kit.graph.user(ADELE).folderIds.inbox });
    expect(kit.graph.findMessage(ADELE, "<msg-11@external.test>")?.folderName).toBe("inbox");
  });

  it("refuses a folder-scoped request for a message that is in another folder", async () => {
    const message = kit.graph.findMessage(ADELE, "<msg-12@external.test>");
    const result = await kit.call(
      "GET",
      `/users/${kit.userId}/mailFolders/sentitems/messages/${message?.restId ?? ""}`,
    );
    expect(result.status).toBe(404);
  });

  it("deletes a message and marks one read", async () => {
    const message = kit.graph.findMessage(ADELE, "<msg-13@external.test>");
    const patched = await kit.call("PATCH", `/users/${kit.userId}/messages/${message?.restId ?? ""}`, {
      body: { isRead: true },
    });
    expect(patched.json.isRead).toBe(true);
    expect((await kit.call("DELETE", `/users/${kit.userId}/messages/${message?.restId ?? ""}`)).status).toBe(
      204,
    );
    expect(kit.graph.findMessage(ADELE, "<msg-13@external.test>")).toBeUndefined();
  });
});

describe("Graph fake: public links for SDK clients", () => {
  it("returns https://graph.microsoft.com links that createGraphFetch routes to the fake", async () => {
    const graph = await startGraphFake({
      entra: kit.entra,
      users: [{ userPrincipalName: "zoe@contoso.test" }],
      linkBaseUrl: GRAPH_PUBLIC_BASE_URL,
      pageSize: 2,
    });
    try {
      for (let index = 0; index < 3; index += 1)
        await graph.deliver("zoe@contoso.test", { subject: `z${index}` });
      const graphFetch = createGraphFetch(graph);
      const headers = { authorization: `Bearer ${kit.token}` };
      const first = (await (
        await graphFetch(`${GRAPH_PUBLIC_BASE_URL}/users/zoe@contoso.test/messages`, { headers })
      ).json()) as Page;
      expect(first["@odata.nextLink"]?.startsWith("https://graph.microsoft.com/v1.0/users/")).toBe(true);
      const second = (await (await graphFetch(first["@odata.nextLink"] ?? "", { headers })).json()) as Page;
      expect([...first.value, ...second.value]).toHaveLength(3);
      await expect(graphFetch("https://example.com/")).rejects.toThrow(/refuses/);
    } finally {
      await graph.close();
    }
  });
});

describe("Graph fake: inbox rules", () => {
  it("applies a rule for a blocked sender at delivery, until it is deleted", async () => {
    const rule = await kit.call("POST", `/users/${kit.userId}/mailFolders/inbox/messageRules`, {
      body: {
        displayName: "Block spammer",
        sequence: 1,
        isEnabled: true,
        conditions: { fromAddresses: [{ emailAddress: { address: "Spammer@bad.test" } }] },
        actions: { moveToFolder: "junkemail", stopProcessingRules: true },
      },
    });
    expect(rule.status).toBe(201);
    const blocked = await kit.graph.deliver(ADELE, { from: "spammer@bad.test", subject: "buy now" });
    const other = await kit.graph.deliver(ADELE, { from: "friend@good.test", subject: "lunch?" });
    expect([blocked.folderName, other.folderName]).toEqual(["junkemail", "inbox"]);
    const denied = await kit.call("GET", `/users/${kit.userId}/mailFolders/inbox/messageRules`, {
      token: await kit.entra.mintGraphToken({ roles: ["Mail.ReadWrite"] }),
    });
    expect(denied.status).toBe(403);
    const removed = await kit.call(
      "DELETE",
      `/users/${kit.userId}/mailFolders/inbox/messageRules/${String(rule.json.id)}`,
    );
    expect(removed.status).toBe(204);
    expect((await kit.graph.deliver(ADELE, { from: "spammer@bad.test", subject: "again" })).folderName).toBe(
      "inbox",
    );
  });
});
