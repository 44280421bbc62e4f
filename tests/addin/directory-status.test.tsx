import { describe, expect, it, vi } from "vitest";
import type { z } from "zod";
import type { Me } from "../../shared/schemas/me";
import type { graphStatus } from "../../shared/schemas/graph";
import { DirectoryStatus, directorySentence } from "../../addin/taskpane/views/review/DirectoryStatus";
import {
  apiOver,
  byTestId,
  GRAPH_OFF,
  json,
  routeNotFound,
  renderWithApp,
  SECURITY_ADMIN,
  waitFor,
  type Mounted,
} from "./support/render";

type GraphStatus = z.infer<typeof graphStatus>;

const TRACER: Me = { ...SECURITY_ADMIN, roles: [], permissions: ["mail.trace"] };
const ROUND = {
  at: "2026-11-30T00:10:00.000Z",
  listed: 120,
  created: 3,
  linked: 1,
  updated: 0,
  aliasesAdded: 5,
  aliasesRemoved: 0,
  disabled: 0,
  markedLeft: 0,
  leaversWithheld: 0,
  groupAddressesAdded: 2,
  groupAddressesRemoved: 0,
  groupMembersAdded: 0,
  groupMembersRemoved: 0,
  failed: false,
  conflicts: [],
};
const SYNCED: GraphStatus = {
  ...GRAPH_OFF,
  configured: true,
  directory: {
    sync: true,
    lastRound: ROUND,
    groups: [{ address: "team@contoso.test", displayName: "Team" }],
  },
};
const TROUBLE: GraphStatus = {
  ...SYNCED,
  directory: {
    ...SYNCED.directory,
    lastRound: {
      ...ROUND,
      failed: true,
      leaversWithheld: 7,
      conflicts: [
        { address: "grady@contoso.test", reason: "address_taken" },
        { address: "info@contoso.test", reason: "address_is_alias" },
      ],
    },
  },
};

function fakeGraphStatus(status: GraphStatus | "fail") {
  return vi.fn<typeof fetch>(async (input) => {
    const url = new URL(String(input), "https://mailward.test");
    if (url.pathname !== "/api/admin/graph") return routeNotFound();
    return status === "fail"
      ? json(500, { error: "internal", message: "Something went wrong on our side." })
      : json(200, status);
  });
}

let mounted: Mounted | null = null;

describe("directorySentence", () => {
  it("says what the round listed and changed, and how many group addresses the gateway takes", () => {
    expect(directorySentence(ROUND, 1)).toMatch(
      /^Last round .+: 120 people listed; 3 accounts created, 1 account linked, 5 aliases added, 2 group addresses added\. The gateway takes mail for 1 group address\.$/,
    );
    expect(
      directorySentence({ ...ROUND, created: 0, linked: 0, aliasesAdded: 0, groupAddressesAdded: 0 }, 0),
    ).toMatch(/: 120 people listed; nothing to change\. The gateway takes mail for 0 group addresses\.$/);
  });

  it("names leavers, disabled accounts marked as left, and group members added and removed", () => {
    const quiet = { ...ROUND, created: 0, linked: 0, aliasesAdded: 0, groupAddressesAdded: 0 };
    expect(
      directorySentence(
        { ...quiet, disabled: 2, markedLeft: 1, groupMembersAdded: 4, groupMembersRemoved: 1 },
        3,
      ),
    ).toMatch(
      /: 120 people listed; 2 leavers disabled, 1 disabled account marked as left, 4 group members added, 1 group member removed\. /,
    );
  });
});

describe("DirectoryStatus", () => {
  it("shows the last round as information when there is nothing to resolve", async () => {
    mounted = await renderWithApp(<DirectoryStatus />, apiOver(fakeGraphStatus(SYNCED)), SECURITY_ADMIN);
    const bar = await waitFor(() => byTestId(mounted!.container, "directory-status"));
    expect(bar.getAttribute("data-intent")).toBe("info");
    expect(bar.textContent).toContain("120 people listed");
    expect(byTestId(mounted.container, "directory-conflicts")).toBeNull();
  });

  it("warns, and lists what IT must resolve: conflicts, withheld leavers, a failed listing", async () => {
    mounted = await renderWithApp(<DirectoryStatus />, apiOver(fakeGraphStatus(TROUBLE)), SECURITY_ADMIN);
    const bar = await waitFor(() => byTestId(mounted!.container, "directory-status"));
    expect(bar.getAttribute("data-intent")).toBe("warning");
    expect(byTestId(mounted.container, "directory-conflicts")?.textContent).toBe(
      "grady@contoso.test: already someone else's address in Mailwardinfo@contoso.test: another person's alias in Mailward",
    );
    expect(byTestId(mounted.container, "directory-withheld")?.textContent).toMatch(/^7 people missing/);
    expect(byTestId(mounted.container, "directory-failed")).not.toBeNull();
  });

  it("warns on a failed listing alone, and on withheld leavers alone", async () => {
    for (const change of [{ failed: true }, { leaversWithheld: 2 }]) {
      const status = { ...SYNCED, directory: { ...SYNCED.directory, lastRound: { ...ROUND, ...change } } };
      mounted = await renderWithApp(<DirectoryStatus />, apiOver(fakeGraphStatus(status)), SECURITY_ADMIN);
      const bar = await waitFor(() => byTestId(mounted!.container, "directory-status"));
      expect(bar.getAttribute("data-intent")).toBe("warning");
      await mounted.unmount();
      mounted = null;
    }
  });

  it("shows nothing when the sync is off, nor to someone who may not read the policies (who is not asked)", async () => {
    const off = fakeGraphStatus(GRAPH_OFF);
    mounted = await renderWithApp(
      <div data-testid="host">
        <DirectoryStatus />
      </div>,
      apiOver(off),
      SECURITY_ADMIN,
    );
    await waitFor(() => off.mock.calls.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(byTestId(mounted.container, "host")?.textContent).toBe("");
    await mounted.unmount();
    const asked = fakeGraphStatus(SYNCED);
    mounted = await renderWithApp(<DirectoryStatus />, apiOver(asked), TRACER);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(asked).not.toHaveBeenCalled();
    expect(mounted.container.textContent).toBe("");
  });

  it("says when the state cannot be read", async () => {
    mounted = await renderWithApp(<DirectoryStatus />, apiOver(fakeGraphStatus("fail")), SECURITY_ADMIN);
    const alert = await waitFor(() => byTestId(mounted!.container, "directory-error"));
    expect(alert.textContent).toContain("Something went wrong on our side.");
  });
});
