import { describe, expect, it, vi } from "vitest";
import { TotpEnrolment } from "../../addin/taskpane/views/settings/TotpEnrolment";
import {
  apiOver,
  byTestId,
  click,
  json,
  renderWithApp,
  routeNotFound,
  waitFor,
  type Mounted,
} from "./support/render";

/** /api/me/totp/enroll answering `enroll`, and a logout that records itself. */
function fakeServer(enroll: { status: number; body: unknown }) {
  const calls: { method: string; path: string }[] = [];
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    const method = init?.method ?? "GET";
    calls.push({ method, path: url.pathname });
    if (url.pathname === "/api/me/totp/enroll" && method === "POST") return json(enroll.status, enroll.body);
    if (url.pathname === "/api/auth/logout" && method === "POST") return json(200, {});
    return routeNotFound();
  });
  return { fetchMock, calls };
}

let mounted: Mounted | null = null;

describe("TotpEnrolment", () => {
  it("shows the secret to scan when enrolment starts", async () => {
    const server = fakeServer({
      status: 200,
      body: {
        secret: "JBSWY3DPEHPK3PXP",
        otpauthUri: "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP",
        qrDataUrl: "data:image/png;base64,iVBORw0KGgo=",
      },
    });
    mounted = await renderWithApp(<TotpEnrolment enabled={false} />, apiOver(server.fetchMock));
    await click(byTestId(mounted.container, "totp-start"));
    const secret = await waitFor(() => byTestId(mounted!.container, "totp-secret"));
    expect(secret.textContent).toBe("JBSW Y3DP EHPK 3PXP");
  });

  it("offers to sign in again when the session's sign-in is too old to set up an authenticator", async () => {
    const server = fakeServer({
      status: 403,
      body: { error: "recent_sign_in_required", message: "For your safety, this needs a recent sign-in." },
    });
    mounted = await renderWithApp(<TotpEnrolment enabled={false} />, apiOver(server.fetchMock));
    await click(byTestId(mounted.container, "totp-start"));
    const stepUp = await waitFor(() => byTestId(mounted!.container, "totp-step-up"));
    expect(stepUp.textContent).toContain(
      "setting up an authenticator app needs a sign-in from the last few minutes",
    );
    expect(byTestId(mounted.container, "totp-secret")).toBeNull();
    expect(server.calls.some((c) => c.path === "/api/auth/logout")).toBe(false);
    await click(byTestId(mounted.container, "totp-sign-in-again"));
    await waitFor(() => server.calls.some((c) => c.path === "/api/auth/logout" && c.method === "POST"));
  });
});
