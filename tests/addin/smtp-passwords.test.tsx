import { describe, expect, it, vi } from "vitest";
import type { SmtpPassword } from "../../shared/schemas/smtp-passwords";
import { SmtpPasswords } from "../../addin/taskpane/views/settings/SmtpPasswords";
import {
  apiOver,
  deleteById,
  routeNotFound,
  byTestId,
  click,
  json,
  renderWithApp,
  typeInto,
  waitFor,
  type Mounted,
} from "./support/render";

let counter = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++counter).padStart(12, "0")}`;
const SECRET = "abcde-fghij-kmnpq-rstuv";

/** A tiny in-memory /api/me/smtp-passwords, enough to drive the section. */
function fakeServer(
  initial: SmtpPassword[],
  refuseCreate?: { status: number; error: string; message: string },
) {
  const items = [...initial];
  const calls: { method: string; path: string; body: unknown }[] = [];
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    const method = init?.method ?? "GET";
    const body: unknown = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, path: url.pathname, body });
    if (url.pathname === "/api/me/smtp-passwords" && method === "GET") return json(200, { items });
    if (url.pathname === "/api/me/smtp-passwords" && method === "POST") {
      if (refuseCreate)
        return json(refuseCreate.status, { error: refuseCreate.error, message: refuseCreate.message });
      const item: SmtpPassword = {
        id: uuid(),
        label: (body as { label: string }).label,
        createdAt: "2026-11-29T10:00:00.000Z",
        lastUsedAt: null,
      };
      items.unshift(item);
      return json(201, { ...item, password: SECRET, username: "agent@mailward.test" });
    }
    if (url.pathname === "/api/auth/logout" && method === "POST") return json(200, {});
    const match = /^\/api\/me\/smtp-passwords\/([^/]+)$/.exec(url.pathname);
    if (method === "DELETE" && match) return deleteById(items, match[1]);
    return routeNotFound();
  });
  return { fetchMock, calls, items };
}

const rows = (container: HTMLElement) =>
  [...container.querySelectorAll("[data-testid=smtp-password-row]")].map((r) => r.getAttribute("data-label"));

let mounted: Mounted | null = null;

describe("SmtpPasswords", () => {
  it("creates a password, shows its secret once with the user name, then lists it without the secret", async () => {
    const server = fakeServer([]);
    mounted = await renderWithApp(<SmtpPasswords />, apiOver(server.fetchMock));
    const { container } = mounted;
    await waitFor(() => byTestId(container, "smtp-password-none"));
    await typeInto(byTestId(container, "smtp-password-label"), "  Office scanner ");
    await click(byTestId(container, "smtp-password-create"));
    const secret = await waitFor(() => byTestId(container, "smtp-password-secret"));
    expect(secret.textContent).toBe(SECRET);
    expect(byTestId(container, "smtp-password-created")?.textContent).toContain("agent@mailward.test");
    expect(server.calls.find((c) => c.method === "POST")?.body).toEqual({ label: "Office scanner" });
    await waitFor(() => rows(container).length === 1);
    expect(rows(container)).toEqual(["Office scanner"]);
    expect(container.querySelector("[data-testid=smtp-password-row]")?.textContent).toContain("never used");

    await click(byTestId(container, "smtp-password-done"));
    await waitFor(() => byTestId(container, "smtp-password-secret") === null);
    expect(container.textContent).not.toContain(SECRET);
  });

  it("revokes one password and keeps the others", async () => {
    const server = fakeServer([
      {
        id: uuid(),
        label: "Laptop",
        createdAt: "2026-11-01T09:00:00.000Z",
        lastUsedAt: "2026-11-28T08:00:00.000Z",
      },
      { id: uuid(), label: "CRM", createdAt: "2026-10-01T09:00:00.000Z", lastUsedAt: null },
    ]);
    mounted = await renderWithApp(<SmtpPasswords />, apiOver(server.fetchMock));
    const { container } = mounted;
    await waitFor(() => rows(container).length === 2);
    expect(container.querySelector("[data-label=Laptop]")?.textContent).toContain("last used");
    const laptopId = server.items[0]?.id;
    await click(container.querySelector("[data-label=Laptop] [data-testid=smtp-password-revoke]"));
    await waitFor(() => rows(container).length === 1);
    expect(rows(container)).toEqual(["CRM"]);
    expect(server.calls.filter((c) => c.method === "DELETE").map((c) => c.path)).toEqual([
      `/api/me/smtp-passwords/${laptopId}`,
    ]);
  });

  it("checks the name before sending, and shows the server's refusal", async () => {
    const server = fakeServer([], {
      status: 409,
      error: "too_many_smtp_passwords",
      message: "You have the most SMTP passwords allowed.",
    });
    mounted = await renderWithApp(<SmtpPasswords />, apiOver(server.fetchMock));
    const { container } = mounted;
    await waitFor(() => byTestId(container, "smtp-password-none"));
    await click(byTestId(container, "smtp-password-create"));
    expect(container.textContent).toContain("Name it in 1 to 64 characters");
    expect(server.calls.filter((c) => c.method === "POST")).toHaveLength(0);
    await typeInto(byTestId(container, "smtp-password-label"), "Phone");
    await click(byTestId(container, "smtp-password-create"));
    const alert = await waitFor(() => container.querySelector("[role=alert]"));
    expect(alert.textContent).toContain("You have the most SMTP passwords allowed.");
    expect(byTestId(container, "smtp-password-secret")).toBeNull();
  });

  it("offers to sign in again when the session's sign-in is too old for a new password", async () => {
    const server = fakeServer([], {
      status: 403,
      error: "recent_sign_in_required",
      message: "For your safety, this needs a recent sign-in.",
    });
    mounted = await renderWithApp(<SmtpPasswords />, apiOver(server.fetchMock));
    const { container } = mounted;
    await waitFor(() => byTestId(container, "smtp-password-none"));
    await typeInto(byTestId(container, "smtp-password-label"), "Scanner");
    await click(byTestId(container, "smtp-password-create"));
    const stepUp = await waitFor(() => byTestId(container, "smtp-password-step-up"));
    expect(stepUp.textContent).toContain("a new SMTP password needs a sign-in from the last few minutes");
    expect(server.calls.some((c) => c.path === "/api/auth/logout")).toBe(false);
    await click(byTestId(container, "smtp-password-sign-in-again"));
    await waitFor(() => server.calls.some((c) => c.path === "/api/auth/logout" && c.method === "POST"));
  });
});
