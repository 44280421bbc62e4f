import { describe, expect, it, vi } from "vitest";
import type { ArchiveMessage } from "../../shared/schemas/archive";
import type { HeldDetail as HeldDetailData } from "../../shared/schemas/held";
import { ArchiveMessageView } from "../../addin/taskpane/views/archive/ArchiveMessageView";
import { HeldDetail } from "../../addin/taskpane/views/held/HeldDetail";
import { apiOver, byTestId, json, renderWithApp, routeNotFound, waitFor } from "./support/render";

// Links in the sandboxed preview open nothing, so the archive and held details list where each one really goes.
const ID = "55555555-5555-4555-8555-555555555555";
const LINKS = [{ text: "https://portal.office.com", href: "https://login.evil.example/reset" }];

const archived: ArchiveMessage = {
  id: ID,
  messageId: "<reset@outside.example>",
  from: "IT <it@outside.example>",
  to: ["agent@mailward.test"],
  cc: [],
  subject: "Your password expires today",
  date: "2026-11-29T08:00:00.000Z",
  hasAttachments: false,
  direction: "inbound",
  size: 1200,
  html: '<p>Reset it at <a data-mw-href="https://login.evil.example/reset">https://portal.office.com</a></p>',
  previewUrl: `/api/archive/${ID}/preview?images=block&ticket=t.1`,
  text: "Reset it.",
  remoteImagesBlocked: false,
  attachments: [],
  links: LINKS,
};

const held: HeldDetailData = {
  id: ID,
  from: "IT <it@outside.example>",
  to: "agent@mailward.test",
  subject: "Your password expires today",
  receivedAt: "2026-11-29T08:00:00.000Z",
  reason: "phish",
  status: "held",
  expiresAt: "2099-12-13T08:00:00.000Z",
  score: 8,
  actions: [],
  messageId: "<reset@outside.example>",
  cc: [],
  signals: [],
  html: archived.html,
  previewUrl: `/api/held/${ID}/preview?images=block&ticket=t.1`,
  text: null,
  remoteImagesBlocked: false,
  attachments: [],
  links: LINKS,
};

/** A fake API that answers one GET with `body` and nothing else. */
function serving(path: string, body: unknown) {
  return apiOver(
    vi.fn<typeof fetch>(async (input, init) => {
      const url = new URL(String(input), "https://mailward.test");
      return (init?.method ?? "GET") === "GET" && url.pathname === path ? json(200, body) : routeNotFound();
    }),
  );
}

/** The link list's entries as text. */
function linkTexts(list: Element): string[] {
  return [...list.querySelectorAll("li")].map((li) => li.textContent ?? "");
}

describe("link targets beside the sandboxed preview", () => {
  it("the archive detail lists where each link really goes", async () => {
    const { container } = await renderWithApp(
      <ArchiveMessageView id={ID} onBack={() => {}} backClassName="" />,
      serving(`/api/archive/${ID}`, archived),
    );
    const list = await waitFor(() => byTestId(container, "message-links"));
    expect(list.querySelector("summary")?.textContent).toBe("Links in this message (1)");
    expect(linkTexts(list)).toEqual(["“https://portal.office.com” → https://login.evil.example/reset"]);
    expect(list.querySelector("code")?.textContent).toBe("https://login.evil.example/reset");
  });

  it("the archive detail shows no link list for a message without links", async () => {
    const { container } = await renderWithApp(
      <ArchiveMessageView id={ID} onBack={() => {}} backClassName="" />,
      serving(`/api/archive/${ID}`, { ...archived, links: [] }),
    );
    await waitFor(() => byTestId(container, "archive-message"));
    expect(byTestId(container, "message-links")).toBeNull();
  });

  it("the held detail lists them the same way", async () => {
    const { container } = await renderWithApp(
      <HeldDetail id={ID} onBack={() => {}} backClassName="" />,
      serving(`/api/held/${ID}`, held),
    );
    const list = await waitFor(() => byTestId(container, "message-links"));
    expect(linkTexts(list)).toEqual(["“https://portal.office.com” → https://login.evil.example/reset"]);
  });
});
