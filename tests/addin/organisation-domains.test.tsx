import { afterEach, describe, expect, it, vi } from "vitest";
import { permissionsFor, type Role } from "../../shared/permissions";
import type { Me } from "../../shared/schemas/me";
import type { OrganisationDomain } from "../../shared/schemas/domains";
import { OrganisationDomains } from "../../addin/taskpane/views/settings/OrganisationDomains";
import {
  AGENT,
  apiOver,
  byTestId,
  click,
  json,
  renderWithApp,
  routeNotFound,
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
});

const row = (domain: string, users = 0, aliases = 0, groups = 0): OrganisationDomain => ({
  domain,
  addedAt: "2026-11-01T09:00:00.000Z",
  users,
  aliases,
  groups,
});

/** A tiny /api/admin/domains: POST adds (or refuses with `refusal`), DELETE removes. */
function fakeServer(refusal?: { status: number; error: string; message: string }) {
  let items = [row("example.com", 12, 3, 1), row("old.example")];
  const calls: string[] = [];
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    const method = init?.method ?? "GET";
    calls.push(`${method} ${url.pathname}`);
    if (url.pathname === "/api/admin/domains" && method === "GET") return json(200, { items });
    if (url.pathname === "/api/admin/domains" && method === "POST") {
      if (refusal) return json(refusal.status, { error: refusal.error, message: refusal.message });
      const { domain } = JSON.parse(String(init?.body)) as { domain: string };
      const added = row(domain.toLowerCase());
      items = [...items, added].sort((a, b) => a.domain.localeCompare(b.domain));
      return json(200, added);
    }
    const removed = /^\/api\/admin\/domains\/(.+)$/.exec(url.pathname)?.[1];
    if (removed && method === "DELETE") {
      items = items.filter((d) => d.domain !== decodeURIComponent(removed));
      return new Response(null, { status: 204 });
    }
    return routeNotFound();
  });
  return { fetchMock, calls };
}

let mounted: Mounted | null = null;
afterEach(async () => {
  await mounted?.unmount();
  mounted = null;
});

const rows = () =>
  [...mounted!.container.querySelectorAll("[data-testid=domain-row]")].map((r) =>
    r.getAttribute("data-domain"),
  );

describe("OrganisationDomains", () => {
  it("lists the domains with what takes mail in each, adds one and removes one nobody uses", async () => {
    const { fetchMock, calls } = fakeServer();
    mounted = await renderWithApp(<OrganisationDomains />, apiOver(fetchMock), person(["tenant_admin"]));
    await waitFor(() => rows().length === 2);
    const used = byTestId(mounted.container, "domain-row")!;
    expect(used.textContent).toContain("12 people · 3 other addresses · 1 group");
    // A domain people still use cannot be removed from here.
    expect((used.querySelector("[data-testid=domain-remove]") as HTMLButtonElement).disabled).toBe(true);

    await click(byTestId(mounted.container, "domain-add"));
    expect(mounted.container.textContent).toContain("Enter a domain name, such as contoso.com.");
    await typeInto(byTestId(mounted.container, "domain-name"), "Contoso.com");
    await click(byTestId(mounted.container, "domain-add"));
    await waitFor(() => rows().includes("contoso.com"));
    expect((byTestId(mounted.container, "domain-name") as HTMLInputElement).value).toBe("");

    const old = mounted.container.querySelector("[data-domain='old.example'] [data-testid=domain-remove]");
    expect((old as HTMLButtonElement).disabled).toBe(false);
    await click(old);
    await waitFor(() => !rows().includes("old.example"));
    expect(calls).toContain("DELETE /api/admin/domains/old.example");
  });

  it("shows why the server refused a domain", async () => {
    const { fetchMock } = fakeServer({
      status: 409,
      error: "already_exists",
      message: "contoso.com belongs to another tenant.",
    });
    mounted = await renderWithApp(<OrganisationDomains />, apiOver(fetchMock), person(["tenant_admin"]));
    await typeInto(await waitFor(() => byTestId(mounted!.container, "domain-name")), "contoso.com");
    await click(byTestId(mounted.container, "domain-add"));
    const alert = await waitFor(() => mounted!.container.querySelector("[role=alert]"));
    expect(alert.textContent).toBe("contoso.com belongs to another tenant.");
    expect(rows()).toEqual(["example.com", "old.example"]);
  });

  it("is not there for an agent, a security admin or a partner admin", async () => {
    for (const me of [AGENT, person(["security_admin"]), person(["partner_admin"])]) {
      const other = fakeServer();
      mounted = await renderWithApp(<OrganisationDomains />, apiOver(other.fetchMock), me);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(mounted.container.textContent).toBe("");
      expect(other.calls).toEqual([]);
      await mounted.unmount();
      mounted = null;
    }
  });
});
