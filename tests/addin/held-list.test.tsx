import { describe, expect, it, vi } from "vitest";
import type { HeldItem } from "../../shared/schemas/held";
import { HeldList } from "../../addin/taskpane/views/held/HeldList";
import { apiOver, byTestId, renderWithApp, type Mounted } from "./support/render";

const item = (overrides: Partial<HeldItem>): HeldItem => ({
  id: "00000000-0000-4000-8000-000000000001",
  from: "Sender <sender@outside.example>",
  to: "agent@example.com",
  subject: "Order 4711",
  receivedAt: "2026-11-29T08:00:00.000Z",
  reason: "spam",
  status: "held",
  expiresAt: "2026-12-13T08:00:00.000Z",
  score: 7,
  actions: ["release"],
  ...overrides,
});

let mounted: Mounted | null = null;

async function renderList(items: HeldItem[]): Promise<HTMLElement> {
  mounted = await renderWithApp(
    <HeldList items={items} selectedIds={new Set()} openId={null} onToggle={() => {}} onOpen={() => {}} />,
    apiOver(vi.fn<typeof fetch>()),
  );
  return mounted.container;
}

describe("HeldList", () => {
  it("says which group a held message was sent to, so a member knows why it is theirs", async () => {
    const container = await renderList([item({ to: "support@example.com", toGroup: true })]);
    expect(byTestId(container, "held-to-group")?.textContent).toBe("to support@example.com");
  });

  it("shows no group for the person's own held mail", async () => {
    const container = await renderList([
      item({ toGroup: false }),
      item({ id: "00000000-0000-4000-8000-000000000002" }),
    ]);
    expect(byTestId(container, "held-to-group")).toBeNull();
    expect(container.querySelectorAll("[data-held-id]")).toHaveLength(2);
  });
});
