import { afterEach, describe, expect, it, vi } from "vitest";
import { TotpEnrolment } from "../../addin/taskpane/views/settings/TotpEnrolment";
import { permissionsFor } from "../../shared/permissions";
import type { MeAnswer } from "../../shared/schemas/me";
import {
  apiOver,
  byTestId,
  click,
  json,
  renderPortal,
  renderWithApp,
  routeNotFound,
  typeInto,
  waitFor,
} from "./support/render";

const RECOVERY = ["ab12-cd34", "ef56-gh78", "ij90-kl12"];

/** A tenant admin whose session is restricted to enrolling TOTP until they confirm a code. */
const ADMIN: MeAnswer = {
  id: "3f2e1d0c-9b8a-4766-8554-433221100fed",
  email: "admin@mailward.test",
  displayName: "First Admin",
  roles: ["tenant_admin"],
  permissions: [],
  othersReach: null,
  mfaEnrolmentRequired: true,
};

/**
 * The server as a restricted session sees it: only /api/me, enrolment and logout answer; everything else is
 * 403 mfa_enrolment_required. Confirming with 123456 lifts the restriction (the session rotates).
 */
function restrictedServer() {
  let restricted = true;
  const calls: { method: string; path: string }[] = [];
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    const method = init?.method ?? "GET";
    calls.push({ method, path: url.pathname });
    if (url.pathname === "/api/me")
      return json(200, {
        ...ADMIN,
        permissions: restricted ? [] : permissionsFor(["tenant_admin"]),
        mfaEnrolmentRequired: restricted,
      });
    if (url.pathname === "/api/me/totp/enroll" && method === "POST")
      return json(200, {
        secret: "JBSWY3DPEHPK3PXP",
        otpauthUri: "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP",
      });
    if (url.pathname === "/api/me/totp/confirm" && method === "POST") {
      const { code } = JSON.parse(String(init?.body)) as { code: string };
      if (code !== "123456")
        return json(401, {
          error: "invalid_mfa_code",
          message: "The authenticator code is wrong or was already used.",
        });
      restricted = false;
      return json(200, {
        totpEnabled: true,
        recoveryCodes: RECOVERY,
        csrfToken: "csrf-rotated",
        smtpPasswordsRevoked: 0,
      });
    }
    if (restricted)
      return json(403, {
        error: "mfa_enrolment_required",
        message: "Your role requires an authenticator app. Enrol one in Settings before you continue.",
      });
    if (url.pathname === "/api/held") return json(200, { items: [], nextCursor: null });
    if (url.pathname === "/api/held/count") return json(200, { count: 0, more: false });
    return routeNotFound();
  });
  return { api: apiOver(fetchMock), calls };
}

afterEach(() => {
  history.replaceState(null, "", "#");
});

describe("the portal's enrolment gate", () => {
  it("shows a restricted admin the authenticator setup, not views that would all be refused", async () => {
    const server = restrictedServer();
    const { container } = await renderPortal(server.api);
    await waitFor(() => byTestId(container, "enrolment-gate"));
    expect(byTestId(container, "totp-start")).not.toBeNull();
    expect(byTestId(container, "nav-held")).toBeNull();
    expect(byTestId(container, "error-state")).toBeNull();
    expect(server.calls.some((c) => c.path.startsWith("/api/held"))).toBe(false);
  });

  it("lets them in once the code is confirmed and the recovery codes are saved, not before", async () => {
    const server = restrictedServer();
    const { container } = await renderPortal(server.api);
    await click(await waitFor(() => byTestId(container, "totp-start")));
    await typeInto(await waitFor(() => byTestId(container, "totp-code")), "123456");
    await click(container.querySelector("form button[type=submit]"));
    await waitFor(() => byTestId(container, "recovery-codes"));
    const shown = [...container.querySelectorAll('[data-testid="recovery-code"]')].map(
      (li) => li.textContent,
    );
    expect(shown).toEqual(RECOVERY);
    // The codes stay until the person says they saved them: the shell must not replace them.
    expect(byTestId(container, "nav-held")).toBeNull();
    await click(byTestId(container, "recovery-codes-done"));
    await waitFor(() => byTestId(container, "nav-held"));
    expect(byTestId(container, "enrolment-gate")).toBeNull();
    expect(byTestId(container, "recovery-codes")).toBeNull();
  });

  it("keeps the gate with the server's message when the code is wrong", async () => {
    const server = restrictedServer();
    const { container } = await renderPortal(server.api);
    await click(await waitFor(() => byTestId(container, "totp-start")));
    await typeInto(await waitFor(() => byTestId(container, "totp-code")), "654321");
    await click(container.querySelector("form button[type=submit]"));
    const alert = await waitFor(() => container.querySelector('[role="alert"]'));
    expect(alert.textContent).toContain("The authenticator code is wrong");
    expect(byTestId(container, "totp-code")).not.toBeNull();
    expect(byTestId(container, "enrolment-gate")).not.toBeNull();
    expect(byTestId(container, "recovery-codes")).toBeNull();
  });
});

describe("TotpEnrolment's recovery codes", () => {
  it("replaces the codes with a current code and shows the new ones once", async () => {
    const bodies: unknown[] = [];
    const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
      const url = new URL(String(input), "https://mailward.test");
      if (url.pathname === "/api/me/totp/recovery-codes" && init?.method === "POST") {
        bodies.push(JSON.parse(String(init.body)));
        return json(200, { recoveryCodes: ["new1-new1", "new2-new2"] });
      }
      if (url.pathname === "/api/me/settings")
        return json(200, { authMethod: "local", securityPhrase: null, totpEnabled: true });
      return routeNotFound();
    });
    const { container } = await renderWithApp(<TotpEnrolment enabled />, apiOver(fetchMock));
    expect(byTestId(container, "totp-enabled")).not.toBeNull();
    await typeInto(byTestId(container, "recovery-replace-code"), "246810");
    await click(byTestId(container, "recovery-replace"));
    await waitFor(() => byTestId(container, "recovery-codes"));
    expect(bodies).toEqual([{ code: "246810" }]);
    expect(
      [...container.querySelectorAll('[data-testid="recovery-code"]')].map((li) => li.textContent),
    ).toEqual(["new1-new1", "new2-new2"]);
    await click(byTestId(container, "recovery-codes-done"));
    expect(byTestId(container, "recovery-codes")).toBeNull();
    expect(byTestId(container, "totp-enabled")).not.toBeNull();
  });

  it("asks for a new sign-in when replacing needs a recent one", async () => {
    const fetchMock = vi.fn<typeof fetch>(async (input) => {
      const url = new URL(String(input), "https://mailward.test");
      if (url.pathname === "/api/me/totp/recovery-codes")
        return json(403, {
          error: "recent_sign_in_required",
          message: "For your safety, this needs a recent sign-in.",
        });
      return routeNotFound();
    });
    const { container } = await renderWithApp(<TotpEnrolment enabled />, apiOver(fetchMock));
    await typeInto(byTestId(container, "recovery-replace-code"), "246810");
    await click(byTestId(container, "recovery-replace"));
    await waitFor(() => byTestId(container, "recovery-replace-step-up"));
    expect(byTestId(container, "recovery-codes")).toBeNull();
  });
});
