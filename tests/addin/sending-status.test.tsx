import { describe, expect, it, vi } from "vitest";
import type { ArchiveSendStatus } from "../../shared/schemas/archive";
import { SendingStatus } from "../../addin/taskpane/views/archive/SendingStatus";
import { apiOver, json, renderWithApp, type Mounted } from "./support/render";

// The sender of an archive forward or reply sees on the message how it is getting on, and what to do.
let mounted: Mounted | null = null;

async function render(status: ArchiveSendStatus): Promise<HTMLElement> {
  mounted = await renderWithApp(<SendingStatus status={status} />, apiOver(vi.fn(async () => json(404, {}))));
  const bar = mounted.container.querySelector<HTMLElement>('[data-testid="archive-sending"]');
  if (!bar) throw new Error("no sending status");
  return bar;
}

describe("SendingStatus", () => {
  it("a send Microsoft 365 refuses: a warning that says who can fix it, as an alert", async () => {
    const bar = await render({
      via: "graph",
      state: "refused",
      detail:
        "Not sent yet: Microsoft 365 does not let Mailward send from your mailbox (the Mail.Send permission).",
      recipients: [],
    });
    expect(bar.textContent).toContain("Not sent yet");
    expect(bar.textContent).toContain("Mail.Send");
    expect(bar.getAttribute("role")).toBe("alert");
    expect(bar.querySelector('[aria-label="Recipients"]')).toBeNull();
  });

  it("a queue send: each recipient with its state and the receiving server's answer", async () => {
    const bar = await render({
      via: "queue",
      state: "failed",
      detail: "Not delivered to every recipient.",
      recipients: [
        { address: "nobody@partner.example", state: "failed", response: "550 5.1.1 no such user" },
        { address: "ops@partner.example", state: "sent", response: null },
      ],
    });
    const items = [...bar.querySelectorAll('[aria-label="Recipients"] li')].map((li) => li.textContent);
    expect(items).toEqual([
      "nobody@partner.example: not delivered (550 5.1.1 no such user)",
      "ops@partner.example: delivered",
    ]);
    expect(bar.textContent).toContain("Not sent");
  });

  it("a delivered send is a status, not an alert", async () => {
    const bar = await render({ via: "queue", state: "sent", detail: "Delivered.", recipients: [] });
    expect(bar.textContent).toContain("Sent");
    expect(bar.getAttribute("role")).toBe("status");
  });
});
