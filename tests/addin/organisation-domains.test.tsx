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
  othersReach: roles.includes("security_admin") ? "organisation" : null,
});

const row = (domain: string, users = 0, aliases = 0, groups = 0): OrganisationDomain => ({
  domain,
  addedAt: "2026-11-01T09:00:00.000Z",
  status: "verified",
  verifiedAt: "2026-11-01T09:00:00.000Z",
  verificationRecord: null,
  users,
  aliases,
  groups,
});

/** The token the fake server hands out for `domain`'s TXT record. */
const tokenFor = (domain: string) => `mailward-verification=3f9a${domain.length}c0ffee`;

/** A domain added from the portal: pending until its TXT record is found. */
const pendingRow = (domain: string): OrganisationDomain => ({
  ...row(domain),
  status: "pending",
  verifiedAt: null,
  verificationRecord: { type: "TXT", name: domain, value: tokenFor(domain) },
});

type Refusal = { status: number; error: string; message: string };

/**
 * A tiny /api/admin/domains: POST adds a pending domain (or refuses with `refusal`), POST …/verify answers with
 * `verifyRefusal` or verifies the domain, DELETE removes.
 */
function fakeServer(refusal?: Refusal, verifyRefusal?: Refusal) {
  let items = [row("example.com", 12, 3, 1), { ...pendingRow("new.example"), users: 2 }, row("old.example")];
  const calls: string[] = [];
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    const method = init?.method ?? "GET";
    calls.push(`${method} ${url.pathname}`);
    if (url.pathname === "/api/admin/domains" && method === "GET") return json(200, { items });
    if (url.pathname === "/api/admin/domains" && method === "POST") {
      if (refusal) return json(refusal.status, { error: refusal.error, message: refusal.message });
      const { domain } = JSON.parse(String(init?.body)) as { domain: string };
      const added = pendingRow(domain.toLowerCase());
      items = [...items, added].sort((a, b) => a.domain.localeCompare(b.domain));
      return json(200, added);
    }
    const verified = /^\/api\/admin\/domains\/([^/]+)\/verify$/.exec(url.pathname)?.[1];
    if (verified && method === "POST") {
      if (verifyRefusal)
        return json(verifyRefusal.status, { error: verifyRefusal.error, message: verifyRefusal.message });
      const name = decodeURIComponent(verified);
      const found = items.find((d) => d.domain === name);
      if (!found) return json(404, { error: "not_found", message: "Not found." });
      const now: OrganisationDomain = {
        ...found,
        status: "verified",
        verifiedAt: "2026-11-02T10:00:00.000Z",
        verificationRecord: null,
      };
      items = items.map((d) => (d.domain === name ? now : d));
      return json(200, now);
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
afterEach(() => {
  vi.restoreAllMocks();
});

/** The row of `domain`, once listed. */
const rowOf = (domain: string) =>
  mounted!.container.querySelector(`[data-testid=domain-row][data-domain='${domain}']`);
const inRow = (domain: string, testId: string) =>
  rowOf(domain)?.querySelector(`[data-testid=${testId}]`) ?? null;

const rows = () =>
  [...mounted!.container.querySelectorAll("[data-testid=domain-row]")].map((r) =>
    r.getAttribute("data-domain"),
  );

describe("OrganisationDomains", () => {
  it("lists the domains with what takes mail in each, adds one and removes one nobody uses", async () => {
    const { fetchMock, calls } = fakeServer();
    mounted = await renderWithApp(<OrganisationDomains />, apiOver(fetchMock), person(["tenant_admin"]));
    await waitFor(() => rows().length === 3);
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
    expect(rows()).toEqual(["example.com", "new.example", "old.example"]);
  });

  it("shows a pending domain's TXT record and Check DNS, and neither for a verified one", async () => {
    const { fetchMock } = fakeServer();
    mounted = await renderWithApp(<OrganisationDomains />, apiOver(fetchMock), person(["tenant_admin"]));
    await waitFor(() => rows().length === 3);

    expect(inRow("new.example", "domain-status")?.textContent).toBe("Pending: takes no mail yet");
    const record = inRow("new.example", "domain-record")!;
    expect(record.textContent).toContain("Type: TXT");
    expect(record.textContent).toContain("Name: new.example");
    const value = inRow("new.example", "domain-record-value")!;
    expect(value.tagName).toBe("CODE");
    expect(value.textContent).toBe(tokenFor("new.example"));
    const check = inRow("new.example", "domain-verify") as HTMLButtonElement;
    expect(check.textContent).toBe("Check DNS");
    expect(check.getAttribute("aria-label")).toBe("Check DNS for new.example");
    expect(check.disabled).toBe(false);
    // People in a pending domain take no mail through it yet: it can be removed all the same.
    expect(rowOf("new.example")?.textContent).toContain("2 people");
    expect((inRow("new.example", "domain-remove") as HTMLButtonElement).disabled).toBe(false);

    for (const verified of ["example.com", "old.example"]) {
      expect(inRow(verified, "domain-status")?.textContent).toBe("Verified");
      expect(inRow(verified, "domain-record")).toBeNull();
      expect(inRow(verified, "domain-verify")).toBeNull();
    }
  });

  it("Check DNS verifies a pending domain once its record is found", async () => {
    const { fetchMock, calls } = fakeServer();
    mounted = await renderWithApp(<OrganisationDomains />, apiOver(fetchMock), person(["tenant_admin"]));
    await waitFor(() => rows().length === 3);
    await click(inRow("new.example", "domain-verify"));
    await waitFor(() => inRow("new.example", "domain-status")?.textContent === "Verified");
    expect(calls).toContain("POST /api/admin/domains/new.example/verify");
    expect(inRow("new.example", "domain-record")).toBeNull();
    expect(inRow("new.example", "domain-verify")).toBeNull();
    expect(mounted.container.querySelector("[role=alert]")).toBeNull();
  });

  it.each([
    {
      status: 422,
      error: "domain_not_verified",
      message:
        'new.example has no TXT record "mailward-verification=…" yet. Add it at your DNS host, then check again.',
    },
    {
      status: 503,
      error: "service_unavailable",
      message: "Looking up new.example's TXT records failed (ETIMEOUT). Try again in a few minutes.",
    },
  ])("Check DNS shows the server's message on $status and keeps the record", async (refusal) => {
    const { fetchMock, calls } = fakeServer(undefined, refusal);
    mounted = await renderWithApp(<OrganisationDomains />, apiOver(fetchMock), person(["tenant_admin"]));
    await waitFor(() => rows().length === 3);
    await click(inRow("new.example", "domain-verify"));
    const alert = await waitFor(() => rowOf("new.example")?.querySelector("[role=alert]"));
    expect(alert.textContent).toBe(refusal.message);
    expect(calls).toContain("POST /api/admin/domains/new.example/verify");
    expect(inRow("new.example", "domain-status")?.textContent).toBe("Pending: takes no mail yet");
    expect(inRow("new.example", "domain-record-value")?.textContent).toBe(tokenFor("new.example"));
    await waitFor(() => !(inRow("new.example", "domain-verify") as HTMLButtonElement).disabled);
  });

  it("says a domain just added is pending and what to publish, until Check DNS verifies it", async () => {
    const { fetchMock } = fakeServer();
    mounted = await renderWithApp(<OrganisationDomains />, apiOver(fetchMock), person(["tenant_admin"]));
    await waitFor(() => rows().length === 3);
    await typeInto(byTestId(mounted.container, "domain-name"), "Contoso.com");
    await click(byTestId(mounted.container, "domain-add"));

    const notice = await waitFor(() => byTestId(mounted!.container, "domain-added"));
    expect(notice.textContent).toContain("contoso.com is pending");
    expect(notice.querySelector("[data-testid=domain-record-value]")?.textContent).toBe(
      tokenFor("contoso.com"),
    );
    await waitFor(() => rows().includes("contoso.com"));
    expect(inRow("contoso.com", "domain-status")?.textContent).toBe("Pending: takes no mail yet");
    expect(inRow("contoso.com", "domain-record-value")?.textContent).toBe(tokenFor("contoso.com"));

    await click(inRow("contoso.com", "domain-verify"));
    await waitFor(() => inRow("contoso.com", "domain-status")?.textContent === "Verified");
    expect(byTestId(mounted.container, "domain-added")).toBeNull();
  });

  it("copies the record's value, and offers no Copy where the clipboard is unavailable", async () => {
    const writeText = vi.spyOn(navigator.clipboard, "writeText").mockResolvedValue(undefined);
    const { fetchMock } = fakeServer();
    mounted = await renderWithApp(<OrganisationDomains />, apiOver(fetchMock), person(["tenant_admin"]));
    await waitFor(() => rows().length === 3);
    const copy = rowOf("new.example")!.querySelector("[aria-label='Copy TXT value for new.example']")!;
    expect(copy.textContent).toBe("Copy");
    await click(copy);
    expect(writeText).toHaveBeenCalledWith(tokenFor("new.example"));
    await waitFor(() => copy.textContent === "Copied");
    expect(copy.getAttribute("aria-label")).toBe("Copied TXT value for new.example");
    await mounted.unmount();
    mounted = null;

    vi.spyOn(navigator, "clipboard", "get").mockReturnValue(undefined as unknown as Clipboard);
    mounted = await renderWithApp(
      <OrganisationDomains />,
      apiOver(fakeServer().fetchMock),
      person(["tenant_admin"]),
    );
    await waitFor(() => rows().length === 3);
    expect(inRow("new.example", "domain-record-value")?.textContent).toBe(tokenFor("new.example"));
    expect(rowOf("new.example")!.querySelector("button[aria-label^='Copy']")).toBeNull();
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
