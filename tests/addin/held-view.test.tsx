import { describe, expect, it, vi } from "vitest";
import type { HeldDetail, HeldItem } from "../../shared/schemas/held";
import { HeldView } from "../../addin/taskpane/views/held/HeldView";
import { permissionsFor } from "../../shared/permissions";
import type { Me } from "../../shared/schemas/me";
import {
  AGENT,
  apiOver,
  byTestId,
  click,
  HELD_FOR_AGENT,
  json,
  renderWithApp,
  SECURITY_ADMIN,
  selectOption,
  typeInto,
  waitFor,
} from "./support/render";

const ID = "00000000-0000-4000-8000-000000000001";

/**
 * A fake server holding one message for the agent. `answer` decides what the release and bulk calls do; the
 * message's status can also change under the pane (`changeStatus`), as when a team mate or the digest link acts.
 */
function heldServer(
  answer: { release?: "release" | "already-released"; bulk?: "release-then-fail" } = {},
  reason: HeldItem["reason"] = "spam",
) {
  let status: HeldItem["status"] = "held";
  const releases: string[] = [];
  const item = (): HeldItem => ({
    id: ID,
    from: "Sender <sender@outside.example>",
    to: "agent@mailward.test",
    subject: "Order 4711",
    receivedAt: "2026-11-29T08:00:00.000Z",
    reason,
    status,
    expiresAt: "2099-12-13T08:00:00.000Z",
    score: 7,
    actions: status === "held" ? ["release", "release-and-permit", "block", "delete"] : [],
  });
  const detail = (): HeldDetail => ({
    ...item(),
    messageId: "<o4711@outside.example>",
    cc: [],
    signals: [],
    html: null,
    previewUrl: null,
    text: "hello",
    remoteImagesBlocked: false,
    attachments: [],
  });
  const fetch = vi.fn<typeof globalThis.fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    const method = init?.method ?? "GET";
    if (url.pathname === "/api/held" && method === "GET") {
      const wanted = url.searchParams.get("status");
      return json(200, { items: !wanted || wanted === status ? [item()] : [], nextCursor: null });
    }
    if (url.pathname === `/api/held/${ID}` && method === "GET") return json(200, detail());
    if (url.pathname === `/api/held/${ID}/release` && method === "POST") {
      releases.push(url.pathname);
      if (answer.release === "already-released") {
        return json(409, { error: "conflict", message: "This message was already released." });
      }
      status = "released";
      return json(200, item());
    }
    if (url.pathname === "/api/held/bulk" && method === "POST" && answer.bulk === "release-then-fail") {
      status = "released";
      return json(503, { error: "service_unavailable", message: "Mailward is busy. Try again in a minute." });
    }
    return json(404, { error: "route_not_found", message: "No route." });
  });
  return {
    api: apiOver(fetch),
    releases,
    changeStatus(next: HeldItem["status"]) {
      status = next;
    },
  };
}

/** The detail's "Back to list" button (shown in the narrow pane). */
function backToList(container: HTMLElement): HTMLElement | undefined {
  return [...container.querySelectorAll("button")].find((button) =>
    button.textContent?.includes("Back to list"),
  );
}

/** Lets refetches that an answer started come back and render. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  await waitFor(() => true);
}

describe("HeldView", () => {
  it("refreshes a message that changed under the pane when Release answers 409, so Release is not offered again", async () => {
    const server = heldServer({ release: "already-released" });
    const { container } = await renderWithApp(<HeldView itemId={ID} />, server.api);
    await waitFor(() => byTestId(container, "held-row"));
    const release = await waitFor(() => byTestId(container, "held-release"));
    server.changeStatus("released");
    await click(release);
    await waitFor(() => byTestId(container, "held-action-error"));
    await settle();
    expect(byTestId(container, "held-action-error")?.textContent).toContain("already released");
    expect(byTestId(container, "held-release")).toBeNull();
    expect(byTestId(container, "held-row")).toBeNull();
  });

  it("refreshes the list after a bulk action whose answer failed, since the server may have acted already", async () => {
    const server = heldServer({ bulk: "release-then-fail" });
    const { container } = await renderWithApp(<HeldView />, server.api);
    const row = await waitFor(() => byTestId(container, "held-row"));
    await click(row.querySelector("input[type=checkbox]"));
    await click(await waitFor(() => byTestId(container, "held-bulk-release")));
    await waitFor(() => byTestId(container, "error-state"));
    await settle();
    expect(byTestId(container, "held-row")).toBeNull();
  });

  it("moves focus to the outcome after Release, since the pressed button goes away", async () => {
    const server = heldServer({ release: "release" });
    const { container } = await renderWithApp(<HeldView itemId={ID} />, server.api);
    const release = await waitFor(() => container.querySelector<HTMLElement>("[data-testid=held-release]"));
    release.focus();
    await click(release);
    await waitFor(() => !byTestId(container, "held-release"));
    expect(document.activeElement).toBe(byTestId(container, "held-action-done"));
  });

  it("returns focus to the row that was open after Back to list", async () => {
    const server = heldServer();
    const { container } = await renderWithApp(<HeldView />, server.api);
    const open = await waitFor(() => container.querySelector<HTMLElement>("[data-testid=held-open]"));
    open.focus();
    await click(open);
    const back = await waitFor(() => backToList(container));
    back.focus(); // as a real click or Enter on it does
    await click(back);
    await waitFor(() => !byTestId(container, "held-detail"));
    expect(document.activeElement).toBe(byTestId(container, "held-open"));
  });

  it("focuses the list's heading after Back when the open message has left the list (it was released)", async () => {
    const server = heldServer({ release: "release" });
    const { container } = await renderWithApp(<HeldView />, server.api);
    await click(await waitFor(() => byTestId(container, "held-open")));
    await click(await waitFor(() => byTestId(container, "held-release")));
    await waitFor(() => !byTestId(container, "held-row"));
    const back = backToList(container);
    back?.focus();
    await click(back ?? null);
    await waitFor(() => !byTestId(container, "held-detail"));
    expect(document.activeElement?.id).toBe("held-title");
  });

  it("asks before releasing a phishing hold, saying where it goes, and releases only on Release anyway", async () => {
    const server = heldServer({ release: "release" }, "phish");
    const { container } = await renderWithApp(<HeldView itemId={ID} />, server.api, SECURITY_ADMIN);
    await click(await waitFor(() => byTestId(container, "held-release")));
    const warning = await waitFor(() => byTestId(container, "held-release-warning"));
    expect(warning.textContent).toContain("held as phishing");
    expect(warning.textContent).toContain("It goes to agent@mailward.test");
    expect(document.activeElement).toBe(warning);
    const cancel = [...warning.querySelectorAll("button")].find((b) => b.textContent === "Cancel");
    await click(cancel ?? null);
    expect(byTestId(container, "held-release-warning")).toBeNull();
    expect(server.releases).toEqual([]);
    await click(byTestId(container, "held-release"));
    await click(await waitFor(() => byTestId(container, "held-release-confirm")));
    await waitFor(() => byTestId(container, "held-action-done"));
    expect(server.releases).toEqual([`/api/held/${ID}/release`]);
  });

  it("releases a spam hold at once, with no second click", async () => {
    const server = heldServer({ release: "release" });
    const { container } = await renderWithApp(<HeldView itemId={ID} />, server.api);
    await click(await waitFor(() => byTestId(container, "held-release")));
    await waitFor(() => byTestId(container, "held-action-done"));
    expect(byTestId(container, "held-release-warning")).toBeNull();
    expect(server.releases).toHaveLength(1);
  });

  it("lists each reason it was held once, in the engine's words (the label already names the link)", async () => {
    const label = "A link hides its real destination after an @ sign (www.paypal.com@198.51.100.7).";
    const fetch = vi.fn<typeof globalThis.fetch>(async (input) => {
      const url = new URL(String(input), "https://mailward.test");
      const item: HeldItem = {
        id: ID,
        from: "Account Security <accounts@held.example>",
        to: AGENT.email,
        subject: "Account locked",
        receivedAt: "2026-11-29T08:00:00.000Z",
        reason: "phish",
        status: "release_requested",
        expiresAt: "2099-12-13T08:00:00.000Z",
        score: 7.5,
        actions: [],
      };
      if (url.pathname === "/api/held") return json(200, { items: [item], nextCursor: null });
      const detail: HeldDetail = {
        ...item,
        messageId: "<locked@held.example>",
        cc: [],
        signals: [{ name: "url.at_sign", score: 4, label, detail: "www.paypal.com@198.51.100.7" }],
        html: null,
        previewUrl: null,
        text: "Your account is locked",
        remoteImagesBlocked: false,
        attachments: [],
      };
      return json(200, detail);
    });
    const { container } = await renderWithApp(<HeldView itemId={ID} />, apiOver(fetch));
    const why = await waitFor(() => container.querySelector('[aria-label="Why it was held"]'));
    expect([...why.querySelectorAll("li")].map((li) => li.textContent)).toEqual([label]);
    // A release request pending still expires: the row and the facts say when.
    expect(byTestId(container, "held-detail")?.textContent).not.toContain("Expires—");
    expect(byTestId(container, "held-row")?.textContent).toContain("expires in");
  });

  it("asks before a bulk release that includes a phishing hold, saying how many, and sends it on Release anyway", async () => {
    const bulkCalls: unknown[] = [];
    const base = { from: "S <s@outside.example>", to: AGENT.email, receivedAt: "2026-11-29T08:00:00.000Z" };
    const items: HeldItem[] = [
      {
        ...base,
        id: ID,
        subject: "Lure",
        reason: "phish",
        status: "held",
        expiresAt: "2099-12-13T08:00:00.000Z",
        score: 9,
        actions: ["release"],
      },
      {
        ...base,
        id: "00000000-0000-4000-8000-000000000002",
        subject: "Offer",
        reason: "spam",
        status: "held",
        expiresAt: "2099-12-13T08:00:00.000Z",
        score: 6,
        actions: ["release"],
      },
    ];
    const fetch = vi.fn<typeof globalThis.fetch>(async (input, init) => {
      const url = new URL(String(input), "https://mailward.test");
      if (url.pathname === "/api/held/bulk") {
        const body = JSON.parse(String(init?.body)) as { ids: string[] };
        bulkCalls.push(body);
        return json(200, { results: body.ids.map((id) => ({ id, ok: true })) });
      }
      return json(200, { items, nextCursor: null });
    });
    const { container } = await renderWithApp(<HeldView />, apiOver(fetch), SECURITY_ADMIN);
    await waitFor(() => container.querySelectorAll("[data-testid=held-row]").length === 2);
    const selectAll = [...container.querySelectorAll("button")].find((b) => b.textContent === "Select all");
    await click(selectAll ?? null);
    await click(await waitFor(() => byTestId(container, "held-bulk-release")));
    const warning = await waitFor(() => byTestId(container, "held-bulk-warning"));
    expect(warning.textContent).toContain(
      "Release 1 message held as phishing or for a dangerous attachment?",
    );
    expect(warning.textContent).toContain("All 2 go to their recipients");
    expect(document.activeElement).toBe(warning);
    expect(bulkCalls).toEqual([]);
    await click(byTestId(container, "held-bulk-confirm"));
    await waitFor(() => byTestId(container, "held-bulk-summary"));
    expect(bulkCalls).toEqual([{ ids: [ID, "00000000-0000-4000-8000-000000000002"], action: "release" }]);
    expect(byTestId(container, "held-bulk-warning")).toBeNull();
  });

  describe("whose messages, and in what order", () => {
    /** The labels of a select's options, in order (the Whose menu's choices). */
    const optionLabels = (select: Element | null) =>
      [...(select?.querySelectorAll("option") ?? [])].map((o) => o.textContent);

    /** A server that lists one message per scope (its recipient says which) and records each list request's query. */
    function scopedServer() {
      const asked: URLSearchParams[] = [];
      const fetch = vi.fn<typeof globalThis.fetch>(async (input) => {
        const url = new URL(String(input), "https://mailward.test");
        if (url.pathname !== "/api/held")
          return json(404, { error: "route_not_found", message: "No route." });
        asked.push(url.searchParams);
        const scope = url.searchParams.get("scope");
        const to =
          scope === "review"
            ? "colleague@mailward.test"
            : scope === "team"
              ? "teammate@mailward.test"
              : AGENT.email;
        const item: HeldItem = { ...HELD_FOR_AGENT, to, subject: `Held for ${scope ?? "me"}` };
        return json(200, { items: [item], nextCursor: null });
      });
      return { api: apiOver(fetch), asked };
    }

    it("offers an agent no Whose menu, lists their own without a scope, and names no recipient", async () => {
      const server = scopedServer();
      const { container } = await renderWithApp(<HeldView />, server.api, AGENT);
      await waitFor(() => byTestId(container, "held-row"));
      expect(byTestId(container, "held-whose")).toBeNull();
      expect(byTestId(container, "held-recipient")).toBeNull();
      expect(server.asked.map((q) => [q.get("scope"), q.get("sort")])).toEqual([[null, null]]);
    });

    it("lets a security admin list everyone's held messages, each naming its recipient, highest score first", async () => {
      const server = scopedServer();
      const { container } = await renderWithApp(<HeldView />, server.api, SECURITY_ADMIN);
      await waitFor(() => byTestId(container, "held-row"));
      const whose = byTestId(container, "held-whose");
      expect(optionLabels(whose)).toEqual(["Yours", "Everyone's"]);
      await selectOption(whose, "review");
      await waitFor(() => byTestId(container, "held-recipient"));
      expect(byTestId(container, "held-recipient")?.textContent).toBe("to colleague@mailward.test");
      await selectOption(byTestId(container, "held-sort"), "score");
      await waitFor(() => server.asked.some((q) => q.get("sort") === "score"));
      expect(server.asked.map((q) => [q.get("scope"), q.get("sort")])).toEqual([
        [null, null],
        ["review", null],
        ["review", "score"],
      ]);
    });

    it("narrows everyone's to one recipient on Search, and sends no recipient for the person's own list", async () => {
      const server = scopedServer();
      const { container } = await renderWithApp(<HeldView />, server.api, SECURITY_ADMIN);
      await waitFor(() => byTestId(container, "held-row"));
      expect(byTestId(container, "held-recipient-filter")).toBeNull();
      await selectOption(byTestId(container, "held-whose"), "review");
      await typeInto(
        await waitFor(() => byTestId(container, "held-recipient-filter")),
        " colleague@mailward.test ",
      );
      const search = [...container.querySelectorAll("button")].find((b) => b.textContent === "Search");
      await click(search ?? null);
      await waitFor(() => server.asked.some((q) => q.get("recipient") === "colleague@mailward.test"));
      expect(server.asked.at(-1)?.get("scope")).toBe("review");
      await selectOption(byTestId(container, "held-whose"), "");
      await waitFor(() => server.asked.at(-1)?.get("scope") === null);
      expect(server.asked.at(-1)?.get("recipient")).toBeNull();
      expect(byTestId(container, "held-recipient-filter")).toBeNull();
    });

    it("offers a team lead their team's and their own with it, but not everyone's", async () => {
      const lead: Me = {
        ...AGENT,
        roles: ["agent", "team_lead"],
        permissions: permissionsFor(["agent", "team_lead"]),
      };
      const server = scopedServer();
      const { container } = await renderWithApp(<HeldView />, server.api, lead);
      await waitFor(() => byTestId(container, "held-row"));
      const whose = byTestId(container, "held-whose");
      expect(optionLabels(whose)).toEqual(["Yours and your team's", "Your team's"]);
      await selectOption(whose, "team");
      await waitFor(() => byTestId(container, "held-recipient")?.textContent === "to teammate@mailward.test");
      expect(server.asked.at(-1)?.get("scope")).toBe("team");
    });

    it("says the organisation has nothing held when everyone's list is empty", async () => {
      const fetch = vi.fn<typeof globalThis.fetch>(async () => json(200, { items: [], nextCursor: null }));
      const { container } = await renderWithApp(<HeldView />, apiOver(fetch), SECURITY_ADMIN);
      await waitFor(() => byTestId(container, "held-empty"));
      expect(byTestId(container, "held-empty")?.textContent).toContain("Nothing is held for you");
      await selectOption(byTestId(container, "held-whose"), "review");
      await waitFor(() => byTestId(container, "held-empty")?.textContent?.includes("your organisation"));
    });

    it("names a partner's investigator's everyone's as the people they oversee, not the organisation", async () => {
      // held.read_any granted to a partner (BPO) user reaches their partner group only (GET /api/me: othersReach).
      const investigator: Me = {
        ...AGENT,
        roles: ["agent"],
        permissions: [...AGENT.permissions, "held.read_any"],
        othersReach: "groups",
      };
      const fetch = vi.fn<typeof globalThis.fetch>(async () => json(200, { items: [], nextCursor: null }));
      const { container } = await renderWithApp(<HeldView />, apiOver(fetch), investigator);
      await waitFor(() => byTestId(container, "held-empty"));
      const whose = byTestId(container, "held-whose");
      expect(optionLabels(whose)).toEqual(["Yours", "Everyone's you oversee"]);
      await selectOption(whose, "review");
      await waitFor(() => byTestId(container, "held-empty")?.textContent?.includes("the people you oversee"));
      expect(byTestId(container, "held-empty")?.textContent).not.toContain("organisation");
    });
  });
});
