import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGraphKit, type GraphKit } from "./graph-kit";

// GET /groups/{id}/transitiveMembers as Graph documents it: every user and nested group reached, each once, as
// directoryObjects with their @odata.type; $select, $top and server-driven paging; GroupMember.Read.All.
const ADELE = "00000000-0000-4000-8000-0000000ade1e";
const MEGAN = "00000000-0000-4000-8000-00000000e9a0";
const NESTOR = "00000000-0000-4000-8000-0000000e5709";
const SALES = "00000000-0000-4000-8000-00000000500e";
const EMEA = "00000000-0000-4000-8000-0000000000ea";

type Member = Record<string, unknown>;
type Page = { value: Member[]; "@odata.nextLink"?: string; "@odata.context"?: string };
type ErrorBody = { error: { code: string; message: string } };

let kit: GraphKit;

beforeAll(async () => {
  kit = await startGraphKit({
    maxPageSize: 2,
    users: [
      { id: ADELE, userPrincipalName: "adele@contoso.test", displayName: "Adele Vance" },
      { id: MEGAN, userPrincipalName: "megan@contoso.test", displayName: "Megan Bowen" },
      { id: NESTOR, userPrincipalName: "nestor@contoso.test", displayName: "Nestor Wilke" },
    ],
    groups: [
      // EMEA is seeded after Sales: a nested group's id may name a group seeded later.
      { id: SALES, displayName: "Sales", mail: "sales@contoso.test", members: ["adele@contoso.test", EMEA] },
      // Adele is in both: she is listed once. The cycle back to Sales is cut.
      { id: EMEA, displayName: "EMEA", mail: "emea@contoso.test", members: [MEGAN, ADELE, SALES] },
    ],
  });
});
afterAll(async () => {
  await kit?.close();
});

const path = (group: string, query = "") => `/groups/${group}/transitiveMembers${query}`;

async function allPages(first: string): Promise<{ members: Member[]; pages: number }> {
  const members: Member[] = [];
  let next: string | undefined = first;
  let pages = 0;
  while (next) {
    const page = await kit.call("GET", next);
    expect(page.status).toBe(200);
    const body = page.json as Page;
    members.push(...body.value);
    next = body["@odata.nextLink"];
    pages += 1;
  }
  return { members, pages };
}

describe("Graph fake: GET /groups/{id}/transitiveMembers", () => {
  it("lists users reached directly and through nested groups, and the nested groups, each once", async () => {
    const first = await kit.call("GET", path(SALES));
    expect((first.json as Page)["@odata.context"]).toMatch(/\$metadata#directoryObjects$/);
    const { members } = await allPages(path(SALES));
    expect(members.map((m) => [m["@odata.type"], m.id])).toEqual([
      ["#microsoft.graph.user", ADELE],
      ["#microsoft.graph.group", EMEA],
      ["#microsoft.graph.user", MEGAN],
    ]);
    expect(members[0]).toMatchObject({ userPrincipalName: "adele@contoso.test", displayName: "Adele Vance" });
    expect(members[1]).toMatchObject({ displayName: "EMEA", mail: "emea@contoso.test" });
  });

  it("keeps @odata.type under $select, and pages server-side through @odata.nextLink whatever $top asked", async () => {
    const { members, pages } = await allPages(path(SALES, "?$select=id&$top=999"));
    expect(pages).toBe(2);
    expect(members).toEqual([
      { "@odata.type": "#microsoft.graph.user", id: ADELE },
      { "@odata.type": "#microsoft.graph.group", id: EMEA },
      { "@odata.type": "#microsoft.graph.user", id: MEGAN },
    ]);
    const mixed = await allPages(path(EMEA, "?$select=displayName,userPrincipalName"));
    expect(mixed.members).toContainEqual({
      "@odata.type": "#microsoft.graph.group",
      id: SALES,
      displayName: "Sales",
    });
    const unknown = await kit.call("GET", path(SALES, "?$select=shoeSize"));
    expect(unknown.status).toBe(400);
  });

  it("is 404 Request_ResourceNotFound for an unknown group", async () => {
    const missing = await kit.call("GET", path("00000000-0000-4000-8000-000000000404"));
    expect(missing.status).toBe(404);
    expect((missing.json as ErrorBody).error.code).toBe("Request_ResourceNotFound");
  });

  it("needs a group permission (GroupMember.Read.All); without User.Read.All users come with their id alone", async () => {
    const mailOnly = await kit.entra.mintGraphToken({ roles: ["Mail.Read"] });
    const denied = await kit.call("GET", path(SALES), { token: mailOnly });
    expect(denied.status).toBe(403);
    const groupsOnly = await kit.entra.mintGraphToken({ roles: ["GroupMember.Read.All"] });
    const limited = await kit.call("GET", path(SALES, "?$top=1"), { token: groupsOnly });
    expect(limited.status).toBe(200);
    expect((limited.json as Page).value[0]).toMatchObject({
      "@odata.type": "#microsoft.graph.user",
      id: ADELE,
      displayName: null,
      userPrincipalName: null,
    });
  });

  it("answers an injected 429 with Retry-After like any other route", async () => {
    kit.graph.faults.throttle({ retryAfterSeconds: 2, match: { path: /\/transitiveMembers$/ } });
    const throttled = await kit.call("GET", path(SALES));
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("2");
    expect((await kit.call("GET", path(SALES))).status).toBe(200);
  });

  it("follows membership changes made after start, and forgets people deleted from the directory", async () => {
    const ids = async () => (await allPages(path(EMEA, "?$select=id"))).members.map((m) => m.id);
    kit.graph.addGroupMembers("EMEA", ["nestor@contoso.test"]);
    expect(await ids()).toContain(NESTOR);
    kit.graph.removeGroupMembers(EMEA, [MEGAN, "nestor@contoso.test"]);
    expect(await ids()).not.toContain(MEGAN);
    expect(await ids()).not.toContain(NESTOR);
    // Adele stays a member of EMEA through Sales (nested) after leaving it directly.
    kit.graph.removeGroupMembers(EMEA, [ADELE]);
    expect(await ids()).toEqual([SALES, ADELE]);
    kit.graph.removeUser(ADELE);
    expect(await ids()).toEqual([SALES]);
  });
});
