import { describe, expect, it, vi } from "vitest";
import { TotpEnrolment } from "../../addin/taskpane/views/settings/TotpEnrolment";
import {
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

/**
 * /api/me/totp/enroll answering `enroll`, a confirm that revoked `revoked` SMTP passwords, and a logout that records
 * itself.
 */
function fakeServer(enroll: { status: number; body: unknown }, revoked = 0) {
  const calls: { method: string; path: string }[] = [];
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    const method = init?.method ?? "GET";
    calls.push({ method, path: url.pathname });
    if (url.pathname === "/api/me/totp/enroll" && method === "POST") return json(enroll.status, enroll.body);
    if (url.pathname === "/api/me/totp/confirm" && method === "POST")
      return json(200, {
        totpEnabled: true,
        recoveryCodes: ["ab12-cd34"],
        csrfToken: "csrf-rotated",
        smtpPasswordsRevoked: revoked,
      });
    if (url.pathname === "/api/auth/logout" && method === "POST") return json(200, {});
    return routeNotFound();
  });
  return { fetchMock, calls };
}

let mounted: Mounted | null = null;

const STARTED = {
  status: 200,
  body: {
    secret: "JBSWY3DPEHPK3PXP",
    otpauthUri: "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP",
    qrDataUrl: "data:image/png;base64,iVBORw0KGgo=",
  },
};

/** Starts enrolment, confirms it with a code, and waits for the recovery codes. */
async function turnOn(revoked: number): Promise<HTMLElement> {
  const server = fakeServer(STARTED, revoked);
  mounted = await renderWithApp(<TotpEnrolment enabled={false} />, apiOver(server.fetchMock));
  const { container } = mounted;
  await click(byTestId(container, "totp-start"));
  await typeInto(await waitFor(() => byTestId(container, "totp-code")), "123456");
  await click(byTestId(container, "totp-confirm"));
  await waitFor(() => byTestId(container, "recovery-codes"));
  return container;
}

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

  it("tells the person their SMTP passwords were revoked and to create new ones, when turning it on revoked any", async () => {
    const container = await turnOn(2);
    const notice = byTestId(container, "totp-smtp-passwords-revoked");
    expect(notice?.textContent).toContain("Your 2 SMTP passwords were revoked");
    expect(notice?.textContent).toContain("create new ones in Settings, under SMTP passwords");
  });

  it("says nothing about SMTP passwords when there were none to revoke", async () => {
    const container = await turnOn(0);
    expect(byTestId(container, "totp-smtp-passwords-revoked")).toBeNull();
  });
});
