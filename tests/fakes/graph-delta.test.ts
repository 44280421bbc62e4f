import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startGraphKit, type GraphKit } from "./graph-kit";

type DeltaItem = Record<string, unknown> & { id: string; "@removed"?: { reason: string } };
type DeltaPage = { value: DeltaItem[]; "@odata.nextLink"?: string; "@odata.deltaLink"?: string };

const ADELE = "adele@contoso.test";
let kit: GraphKit;

beforeEach(async () => {
  kit = await startGraphKit();
});
afterEach(async () => {
  await kit.close();
});

async function deliverMany(count: number, prefix: string): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    await kit.graph.deliver(ADELE, {
      subject: `${prefix} ${index}`,
      to: [ADELE],
      internetMessageId: `<${prefix}-${index}@x.test>`,
    });
  }
}

/** Follows nextLinks to the end of a round; returns every item and the deltaLink. */
async function round(
  start: string,
  headers: Record<string, string> = {},
  immutable = false,
): Promise<{ items: DeltaItem[]; deltaLink: string; pages: number }> {
  const items: DeltaItem[] = [];
  let next: string | undefined = start;
  let pages = 0;
  while (next) {
    const response = await kit.call("GET", next, { headers, immutable });
    expect(response.status).toBe(200);
    const page = response.json as DeltaPage;
    items.push(...page.value);
    pages += 1;
    if (page["@odata.deltaLink"]) return { items, deltaLink: page["@odata.deltaLink"], pages };
    next = page["@odata.nextLink"];
  }
  throw new Error("round ended without a deltaLink");
}

describe("Graph fake: delta on a mail folder", () => {
  it("syncs the whole folder in pages of odata.maxpagesize, then ends with a deltaLink", async () => {
    await deliverMany(5, "first");
    const initial = await round(`/users/${kit.userId}/mailFolders/inbox/messages/delta?$select=subject`, {
      prefer: "odata.maxpagesize=2",
    });
    expect(initial.pages).toBe(3);
    expect(initial.items.map((item) => item.subject).sort()).toEqual([
      "first 0",
      "first 1",
      "first 2",
      "first 3",
      "first 4",
    ]);
    expect(Object.keys(initial.items[0] ?? {}).sort()).toEqual([
      "@odata.etag",
      "@odata.type",
      "id",
      "subject",
    ]);
    const empty = await round(initial.deltaLink);
    expect(empty.items).toEqual([]);
  });

  it("reports new, updated and moved-out (@removed) messages since the deltaLink", async () => {
    await deliverMany(3, "old");
    const initial = await round(`/users/${kit.userId}/mailFolders/inbox/messages/delta`);
    const [kept, moved, deleted] = ["<old-0@x.test>", "<old-1@x.test>", "<old-2@x.test>"].map((id) =>
      kit.graph.findMessage(ADELE, id),
    );
    const movedRestIdInInbox = moved?.restId;
    kit.graph.updateMessage(ADELE, kept?.immutableId ?? "", { isRead: true });
    kit.graph.moveMessage(ADELE, moved?.immutableId ?? "", "junkemail");
    kit.graph.deleteMessage(ADELE, deleted?.immutableId ?? "");
    await kit.graph.deliver(ADELE, { subject: "new one", to: [ADELE] });

    const changes = await round(initial.deltaLink);
    const removed = changes.items.filter((item) => item["@removed"]);
    const present = changes.items.filter((item) => !item["@removed"]);
    expect(removed.map((item) => item.id).sort()).toEqual([movedRestIdInInbox, deleted?.restId].sort());
    expect(removed.every((item) => item["@removed"]?.reason === "deleted")).toBe(true);
    expect(present.map((item) => item.subject).sort()).toEqual(["new one", "old 0"]);
    expect(present.find((item) => item.subject === "old 0")?.isRead).toBe(true);

    const junk = await round(`/users/${kit.userId}/mailFolders/junkemail/messages/delta`);
    expect(junk.items.map((item) => item.subject)).toEqual(["old 1"]);
  });

  it("uses immutable ids in items and @removed entries when asked", async () => {
    await deliverMany(1, "imm");
    const initial = await round(`/users/${kit.userId}/mailFolders/inbox/messages/delta`, {}, true);
    const message = kit.graph.findMessage(ADELE, "<imm-0@x.test>");
    expect(initial.items[0]?.id).toBe(message?.immutableId);
    const hidden = kit.graph.createFolder(ADELE, "Quarantine", { isHidden: true });
    kit.graph.moveMessage(ADELE, message?.immutableId ?? "", hidden.id);
    const changes = await round(initial.deltaLink, {}, true);
    expect(changes.items).toEqual([
      {
        "@odata.type": "#microsoft.graph.message",
        id: message?.immutableId,
        "@removed": { reason: "deleted" },
      },
    ]);
  });

  it("filters rounds by changeType=created", async () => {
    await deliverMany(2, "ct");
    const initial = await round(`/users/${kit.userId}/mailFolders/inbox/messages/delta?changeType=created`);
    kit.graph.updateMessage(ADELE, kit.graph.findMessage(ADELE, "<ct-0@x.test>")?.immutableId ?? "", {
      isRead: true,
    });
    await kit.graph.deliver(ADELE, { subject: "created later", to: [ADELE] });
    const changes = await round(initial.deltaLink);
    expect(changes.items.map((item) => item.subject)).toEqual(["created later"]);
  });

  it("catches up on mail whose notification was lost", async () => {
    const initial = await round(`/users/${kit.userId}/mailFolders/inbox/messages/delta`);
    await kit.graph.deliver(ADELE, { subject: "while we were down", to: [ADELE] }, { notify: false });
    const changes = await round(initial.deltaLink);
    expect(changes.items.map((item) => item.subject)).toEqual(["while we were down"]);
  });

  it("answers 410 SyncStateNotFound for an unknown delta token and 400 for a token of another folder", async () => {
    const gone = await kit.call(
      "GET",
      `/users/${kit.userId}/mailFolders/inbox/messages/delta?$deltatoken=nope`,
    );
    expect(gone.status).toBe(410);
    const initial = await round(`/users/${kit.userId}/mailFolders/inbox/messages/delta`);
    const token = new URL(initial.deltaLink).searchParams.get("$deltatoken") ?? "";
    const other = await kit.call(
      "GET",
      `/users/${kit.userId}/mailFolders/junkemail/messages/delta?$deltatoken=${token}`,
    );
    expect(other.status).toBe(400);
  });
});
