import { describe, expect, it, vi } from "vitest";
import { permissionsFor } from "../../shared/permissions";
import type { Me } from "../../shared/schemas/me";
import type { OrganisationSettings as Settings } from "../../shared/schemas/settings";
import { OrganisationSettings } from "../../addin/taskpane/views/settings/OrganisationSettings";
import {
  AGENT,
  apiOver,
  byTestId,
  click,
  json,
  renderWithApp,
  routeNotFound,
  SECURITY_ADMIN,
  selectOption,
  typeInto,
  waitFor,
  type Mounted,
} from "./support/render";

const AUDITOR: Me = {
  id: "5b2d3c4e-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
  email: "audit@mailward.test",
  displayName: "Audrey Auditor",
  roles: ["auditor"],
  permissions: permissionsFor(["auditor"]),
  othersReach: null,
};

const IN_EFFECT: Settings = {
  holdThreshold: 5,
  suspectScore: 3,
  orgBlockAction: "reject",
  quarantineRetentionDays: 14,
  autoPermitDays: 120,
  timeZone: "UTC",
  digestTimes: ["08:00", "16:00"],
};

/** A tiny /api/admin/settings: PUT merges what it is sent, or refuses with `refusal`. */
function fakeServer(refusal?: { status: number; error: string; message: string }) {
  let settings = { ...IN_EFFECT };
  const puts: unknown[] = [];
  const previews: unknown[] = [];
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    if (url.pathname === "/api/admin/settings/impact") {
      previews.push(Object.fromEntries(url.searchParams));
      const tried = {
        holdThreshold: Number(url.searchParams.get("holdThreshold")),
        suspectScore: Number(url.searchParams.get("suspectScore")),
      };
      return json(200, {
        days: 7,
        since: "2026-11-23T12:00:00.000Z",
        messages: 1234,
        current: { holdThreshold: 5, suspectScore: 3, held: 40, suspect: 98 },
        proposed: { ...tried, held: 56, suspect: 120 },
      });
    }
    if (url.pathname !== "/api/admin/settings") return routeNotFound();
    if ((init?.method ?? "GET") === "GET") return json(200, settings);
    const body = JSON.parse(String(init?.body)) as Partial<Settings>;
    puts.push(body);
    if (refusal) return json(refusal.status, { error: refusal.error, message: refusal.message });
    settings = { ...settings, ...body };
    return json(200, settings);
  });
  return { fetchMock, puts, previews };
}

let mounted: Mounted | null = null;

const input = (id: string) => byTestId(mounted!.container, id);

describe("OrganisationSettings", () => {
  it("shows the settings in effect and sends only what the admin changed", async () => {
    const { fetchMock, puts } = fakeServer();
    mounted = await renderWithApp(<OrganisationSettings />, apiOver(fetchMock), SECURITY_ADMIN);
    const hold = await waitFor(() => input("org-hold-threshold"));
    expect((hold as HTMLInputElement).value).toBe("5");
    expect((input("org-digest-times") as HTMLInputElement).value).toBe("08:00, 16:00");
    expect((input("org-settings-save") as HTMLButtonElement).disabled).toBe(true);

    await typeInto(hold, "6.5");
    await typeInto(input("org-digest-times"), "17:30, 07:00");
    await selectOption(input("org-block-action"), "hold");
    await click(input("org-settings-save"));
    await waitFor(() => mounted!.container.querySelector("[role=status]"));
    expect(puts).toEqual([{ holdThreshold: 6.5, orgBlockAction: "hold", digestTimes: ["07:00", "17:30"] }]);
    expect(mounted.container.querySelector("[role=status]")?.textContent).toBe(
      "Saved. New mail is scanned with these settings.",
    );
    expect((input("org-digest-times") as HTMLInputElement).value).toBe("07:00, 17:30");
    // Editing again takes back the "Saved." of the last save.
    await selectOption(input("org-block-action"), "reject");
    expect(mounted.container.querySelector("[role=status]")).toBeNull();
  });

  it("says what to enter instead of sending what the server would refuse, and shows the server's reason", async () => {
    const { fetchMock, puts } = fakeServer({
      status: 400,
      error: "invalid_request",
      message:
        "The suspect score (6) must not be above the hold threshold (5): suspect mail is mail that is delivered, not held.",
    });
    mounted = await renderWithApp(<OrganisationSettings />, apiOver(fetchMock), SECURITY_ADMIN);
    await typeInto(await waitFor(() => input("org-retention-days")), "0");
    await typeInto(input("org-time-zone"), "Mars/Olympus_Mons");
    await click(input("org-settings-save"));
    const text = mounted.container.textContent ?? "";
    expect(text).toContain("Enter a whole number of days from 1 to 3650.");
    expect(text).toContain("an IANA time zone, e.g. Europe/Berlin");
    expect(puts).toEqual([]);

    await typeInto(input("org-retention-days"), "14");
    await typeInto(input("org-time-zone"), "UTC");
    await typeInto(input("org-suspect-score"), "6");
    await click(input("org-settings-save"));
    const error = await waitFor(() => input("org-settings-error"));
    expect(error.textContent).toContain("must not be above the hold threshold (5)");
    expect(puts).toEqual([{ suspectScore: 6 }]);
  });

  it("is read-only for an auditor, and not there for an agent", async () => {
    const { fetchMock } = fakeServer();
    mounted = await renderWithApp(<OrganisationSettings />, apiOver(fetchMock), AUDITOR);
    const hold = await waitFor(() => input("org-hold-threshold"));
    expect((hold as HTMLInputElement).readOnly).toBe(true);
    expect(input("org-settings-save")).toBeNull();
    expect(mounted.container.textContent).toContain("Only security and tenant admins change these.");
    await mounted.unmount();

    const agentFetch = fakeServer().fetchMock;
    mounted = await renderWithApp(<OrganisationSettings />, apiOver(agentFetch), AGENT);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(mounted.container.textContent).toBe("");
    expect(agentFetch).not.toHaveBeenCalled();
  });

  it("previews the thresholds being typed on last week's mail, next to those in effect, without saving", async () => {
    const { fetchMock, puts, previews } = fakeServer();
    mounted = await renderWithApp(<OrganisationSettings />, apiOver(fetchMock), SECURITY_ADMIN);
    await typeInto(await waitFor(() => input("org-hold-threshold")), "4");
    await typeInto(input("org-suspect-score"), "2.5");
    await click(input("org-settings-preview"));
    const impact = await waitFor(() => input("org-settings-impact"));
    expect(previews).toEqual([{ holdThreshold: "4", suspectScore: "2.5", days: "7" }]);
    expect(impact.textContent).toBe(
      "In the last 7 days, 1,234 inbound messages had a score. At a hold threshold of 4 and a suspect score of 2.5, 56 would have been held and 120 marked suspect; with the settings in effect (5 and 3), 40 and 98. Sender rules and malware do not depend on the score and are not counted.",
    );
    expect(puts).toEqual([]);
    // Nothing to try while a threshold is not a number.
    await typeInto(input("org-hold-threshold"), "four");
    expect((input("org-settings-preview") as HTMLButtonElement).disabled).toBe(true);
  });
});
