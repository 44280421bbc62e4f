import { afterEach, describe, expect, it, vi } from "vitest";
import { permissionsFor, type Role } from "../../shared/permissions";
import type { Me } from "../../shared/schemas/me";
import type { PartnerGroup, Team } from "../../shared/schemas/organisation";
import { TeamsAndPartners } from "../../addin/taskpane/views/settings/TeamsAndPartners";
import {
  apiOver,
  byTestId,
  click,
  deleteById,
  json,
  renderWithApp,
  routeNotFound,
  selectOption,
  typeInto,
  waitFor,
  type Mounted,
} from "./support/render";

const person = (roles: Role[]): Me => ({
  id: "7c1d2e3f-4a5b-4c6d-8e7f-8a9b0c1d2e3f",
  email: "it@mailward.test",
  displayName: "Ida IT",
  roles,
  permissions: permissionsFor(roles),
  othersReach: roles.includes("security_admin") ? "organisation" : null,
});

const ACME = "0b6f3c1e-2d4a-4b5c-9d8e-7f6a5b4c3d2e";
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

/**
 * A tiny /api/admin/partners and /api/admin/teams over lists in memory, `pageSize` to a page (the cursor: how many
 * came before). A name taken (any case) is a 409 with the server's wording; deleting a team with people in it is a
 * 409 team_not_empty.
 */
function fakeServer(pageSize = 50) {
  const partners: PartnerGroup[] = [{ id: ACME, name: "Acme Contact", members: 3, teams: 1 }];
  const teams: Team[] = [
    {
      id: uuid(1),
      name: "Billing",
      partner: null,
      members: 4,
      leads: [{ id: uuid(9), email: "lee@mailward.test", displayName: "Lee Lead" }],
    },
    { id: uuid(2), name: "Night shift", partner: { id: ACME, name: "Acme Contact" }, members: 0, leads: [] },
  ];
  let next = 10;
  const calls: Array<{ method: string; path: string; body: unknown }> = [];
  const taken = (list: Array<{ name: string }>, name: string) =>
    list.find((x) => x.name.toLowerCase() === name.toLowerCase());
  const conflict = (kind: string, name: string) =>
    json(409, {
      error: "already_exists",
      message: `There is already a ${kind} named "${name}" in your organisation (names are compared ignoring case). Choose another name.`,
    });
  const pageOf = <T,>(list: T[], url: URL) => {
    const from = Number(url.searchParams.get("cursor") ?? "0");
    const more = from + pageSize < list.length;
    return json(200, {
      items: list.slice(from, from + pageSize),
      nextCursor: more ? String(from + pageSize) : null,
    });
  };
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    const method = init?.method ?? "GET";
    const body: unknown = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, path: url.pathname, body });
    const [, , , area, id] = url.pathname.split("/");
    const { name, partnerId } = (body ?? {}) as { name?: string; partnerId?: string | null };
    if (area === "partners") {
      if (method === "GET" && !id) return pageOf(partners, url);
      if (method === "POST" && name) {
        const clash = taken(partners, name);
        if (clash) return conflict("partner group", clash.name);
        const made = { id: uuid((next += 1)), name, members: 0, teams: 0 };
        partners.push(made);
        return json(201, made);
      }
      if (method === "DELETE") return deleteById(partners, id);
    }
    if (area === "teams") {
      if (method === "GET" && !id) return pageOf(teams, url);
      if (method === "POST" && name) {
        const clash = taken(teams, name);
        if (clash) return conflict("team", clash.name);
        const partner = partners.find((p) => p.id === partnerId);
        const made: Team = {
          id: uuid((next += 1)),
          name,
          partner: partner ? { id: partner.id, name: partner.name } : null,
          members: 0,
          leads: [],
        };
        teams.push(made);
        return json(201, made);
      }
      const found = teams.find((t) => t.id === id);
      if (method === "PATCH" && found && name) {
        const clash = taken(teams, name);
        if (clash && clash !== found) return conflict("team", clash.name);
        found.name = name;
        return json(200, found);
      }
      if (method === "DELETE" && found && found.members > 0)
        return json(409, {
          error: "team_not_empty",
          message: `Team "${found.name}" cannot be deleted: ${found.members} people are still in it.`,
        });
      if (method === "DELETE") return deleteById(teams, id);
    }
    return routeNotFound();
  });
  return { fetchMock, calls };
}

let mounted: Mounted | null = null;
afterEach(() => {
  vi.restoreAllMocks();
});

const names = (kind: "team" | "partner") =>
  [...mounted!.container.querySelectorAll(`[data-testid=${kind}-row]`)].map((r) =>
    r.getAttribute("data-name"),
  );
const rowOf = (kind: "team" | "partner", name: string) =>
  mounted!.container.querySelector(`[data-testid=${kind}-row][data-name='${name}']`);
const inRow = (kind: "team" | "partner", name: string, testId: string) =>
  rowOf(kind, name)?.querySelector(`[data-testid=${testId}]`) ?? null;

describe("TeamsAndPartners", () => {
  it("lists partner groups and teams with what is in them, and adds one of each", async () => {
    const { fetchMock, calls } = fakeServer();
    mounted = await renderWithApp(<TeamsAndPartners />, apiOver(fetchMock), person(["tenant_admin"]));
    await waitFor(() => names("team").length === 2 && names("partner").length === 1);
    expect(rowOf("partner", "Acme Contact")?.textContent).toContain("3 people · 1 team");
    expect(rowOf("team", "Billing")?.textContent).toContain("In-house · 4 people · led by Lee Lead");
    expect(rowOf("team", "Night shift")?.textContent).toContain("Acme Contact · 0 people · no lead");

    await typeInto(byTestId(mounted.container, "partner-name"), "  Globex  ");
    await click(byTestId(mounted.container, "partner-add"));
    await waitFor(() => names("partner").includes("Globex"));
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ name: "Globex" });

    await selectOption(byTestId(mounted.container, "team-partner"), ACME);
    await typeInto(byTestId(mounted.container, "team-name"), "Weekend");
    await click(byTestId(mounted.container, "team-add"));
    await waitFor(() => names("team").includes("Weekend"));
    expect(calls.filter((c) => c.method === "POST").at(-1)).toMatchObject({
      path: "/api/admin/teams",
      body: { name: "Weekend", partnerId: ACME },
    });
    expect(rowOf("team", "Weekend")?.textContent).toContain("Acme Contact");
  });

  it("checks a name before sending it, and shows the server's refusal of a taken one", async () => {
    const { fetchMock, calls } = fakeServer();
    mounted = await renderWithApp(<TeamsAndPartners />, apiOver(fetchMock), person(["tenant_admin"]));
    await waitFor(() => names("team").length === 2);
    await click(byTestId(mounted.container, "team-add"));
    expect(mounted.container.textContent).toContain("Use 1 to 100 characters.");
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await typeInto(byTestId(mounted.container, "team-name"), "billing");
    await click(byTestId(mounted.container, "team-add"));
    const alert = await waitFor(() => mounted!.container.querySelector("[role=alert]"));
    expect(alert.textContent).toContain('There is already a team named "Billing"');
    expect(names("team")).toEqual(["Billing", "Night shift"]);
  });

  it("renames a team in place, and deletes an empty one", async () => {
    const { fetchMock, calls } = fakeServer();
    mounted = await renderWithApp(<TeamsAndPartners />, apiOver(fetchMock), person(["tenant_admin"]));
    await waitFor(() => names("team").length === 2);
    await click(inRow("team", "Night shift", "team-rename"));
    await typeInto(inRow("team", "Night shift", "team-rename-name"), "Nights");
    await click(inRow("team", "Night shift", "team-rename-save"));
    await waitFor(() => names("team").includes("Nights"));
    expect(calls).toContainEqual({
      method: "PATCH",
      path: `/api/admin/teams/${uuid(2)}`,
      body: { name: "Nights" },
    });
    expect(inRow("team", "Nights", "team-rename-name")).toBeNull();

    await click(inRow("team", "Nights", "team-delete"));
    await waitFor(() => !names("team").includes("Nights"));
    expect(calls).toContainEqual({ method: "DELETE", path: `/api/admin/teams/${uuid(2)}`, body: undefined });
  });

  it("shows why a team with people in it cannot be deleted, and keeps it", async () => {
    const { fetchMock } = fakeServer();
    mounted = await renderWithApp(<TeamsAndPartners />, apiOver(fetchMock), person(["tenant_admin"]));
    await waitFor(() => names("team").length === 2);
    await click(inRow("team", "Billing", "team-delete"));
    const alert = await waitFor(() => rowOf("team", "Billing")?.querySelector("[role=alert]"));
    expect(alert.textContent).toBe('Team "Billing" cannot be deleted: 4 people are still in it.');
    expect(names("team")).toEqual(["Billing", "Night shift"]);
  });

  it("shows a page of each list, loads the next on request, and offers the loaded partner groups for a new team", async () => {
    const { fetchMock } = fakeServer(1);
    mounted = await renderWithApp(<TeamsAndPartners />, apiOver(fetchMock), person(["tenant_admin"]));
    await waitFor(() => names("team").length === 1 && names("partner").length === 1);
    expect(names("team")).toEqual(["Billing"]);
    await typeInto(byTestId(mounted.container, "partner-name"), "Globex");
    await click(byTestId(mounted.container, "partner-add"));
    // Refreshed after the addition: still the first page, and a button for the next.
    await waitFor(() => byTestId(mounted!.container, "partner-more"));
    expect(names("partner")).toEqual(["Acme Contact"]);
    const partnerChoices = () =>
      [...(byTestId(mounted!.container, "team-partner")?.querySelectorAll("option") ?? [])].map(
        (o) => o.textContent,
      );
    expect(partnerChoices()).toEqual(["In-house", "Acme Contact"]);

    await click(byTestId(mounted.container, "partner-more"));
    await waitFor(() => names("partner").length === 2);
    expect(names("partner")).toEqual(["Acme Contact", "Globex"]);
    expect(partnerChoices()).toEqual(["In-house", "Acme Contact", "Globex"]);
    expect(mounted.container.querySelector("[data-testid=partner-more]")).toBeNull();

    await click(byTestId(mounted.container, "team-more"));
    await waitFor(() => names("team").length === 2);
    expect(names("team")).toEqual(["Billing", "Night shift"]);
    expect(mounted.container.querySelector("[data-testid=team-more]")).toBeNull();
  });

  it("is absent for anyone but tenant admins, and asks nothing of the server then", async () => {
    for (const roles of [["agent"], ["partner_admin"], ["security_admin"]] as Role[][]) {
      const { fetchMock } = fakeServer();
      mounted = await renderWithApp(<TeamsAndPartners />, apiOver(fetchMock), person(roles));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(mounted.container.textContent).toBe("");
      expect(fetchMock).not.toHaveBeenCalled();
      await mounted.unmount();
      mounted = null;
    }
  });
});
