import { describe, expect, it, vi } from "vitest";
import type { ArchiveHit, ArchiveMessage } from "../../shared/schemas/archive";
import { ArchiveView } from "../../addin/taskpane/views/archive/ArchiveView";
import {
  apiOver,
  byTestId,
  click,
  json,
  renderWithApp,
  routeNotFound,
  typeInto,
  waitFor,
} from "./support/render";

const ID = "00000000-0000-4000-8000-0000000000a1";
const OTHER = "00000000-0000-4000-8000-0000000000a2";

const hit = (id: string, subject: string): ArchiveHit => ({
  id,
  messageId: `<${id}@partner.example>`,
  from: "Partner <ops@partner.example>",
  to: ["agent@mailward.test"],
  subject,
  date: "2026-11-29T08:00:00.000Z",
  snippet: "the invoice for November",
  hasAttachments: false,
});

const message = (id: string): ArchiveMessage => ({
  ...hit(id, id === ID ? "Invoice November" : "Not in the results"),
  cc: [],
  direction: "inbound",
  size: 1200,
  html: null,
  previewUrl: null,
  text: "the invoice for November",
  remoteImagesBlocked: false,
  attachments: [],
});

/** A fake server whose archive has one hit for any search, and can show it and one other message. */
function archiveServer() {
  const fetch = vi.fn<typeof globalThis.fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    if ((init?.method ?? "GET") !== "GET") return routeNotFound();
    if (url.pathname === "/api/archive/search")
      return json(200, {
        items: [hit(ID, "Invoice November")],
        nextCursor: null,
        tookMs: 3,
        estimatedTotal: 1,
        totalIsExact: true,
      });
    if (url.pathname === `/api/archive/${ID}`) return json(200, message(ID));
    if (url.pathname === `/api/archive/${OTHER}`) return json(200, message(OTHER));
    return routeNotFound();
  });
  return apiOver(fetch);
}

/** The message's "Back to results" button (shown in the narrow pane). */
function backToResults(container: HTMLElement): HTMLElement | undefined {
  return [...container.querySelectorAll("button")].find((button) =>
    button.textContent?.includes("Back to results"),
  );
}

async function search(container: HTMLElement): Promise<HTMLElement> {
  await typeInto(byTestId(container, "archive-search-input"), "invoice");
  await click(byTestId(container, "archive-search-submit"));
  const result = await waitFor(() => byTestId(container, "archive-result"));
  const open = result.querySelector("button");
  if (!open) throw new Error("no button in the result");
  return open;
}

describe("ArchiveView", () => {
  it("returns focus to the result that was open after Back to results", async () => {
    const { container } = await renderWithApp(<ArchiveView />, archiveServer());
    const open = await search(container);
    open.focus();
    await click(open);
    const back = await waitFor(() => backToResults(container));
    back.focus(); // as a real click or Enter on it does
    await click(back);
    await waitFor(() => !byTestId(container, "archive-message"));
    expect(document.activeElement).toBe(byTestId(container, "archive-result")?.querySelector("button"));
  });

  it("focuses the archive's heading after Back when the open message is not among the results", async () => {
    const { container } = await renderWithApp(<ArchiveView itemId={OTHER} />, archiveServer());
    const back = await waitFor(() => backToResults(container));
    back.focus();
    await click(back);
    await waitFor(() => !byTestId(container, "archive-message"));
    expect(document.activeElement?.id).toBe("archive-title");
  });

  it("leaves focus where it is when a new search closes the open message", async () => {
    const { container } = await renderWithApp(<ArchiveView itemId={ID} />, archiveServer());
    await waitFor(() => byTestId(container, "archive-message"));
    const input = byTestId(container, "archive-search-input") as HTMLElement;
    input.focus();
    await typeInto(input, "invoice");
    await click(byTestId(container, "archive-search-submit"));
    await waitFor(() => byTestId(container, "archive-result"));
    expect(byTestId(container, "archive-message")).toBeNull();
    expect(document.activeElement).toBe(input);
  });
});
