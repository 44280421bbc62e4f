import { Secret, TOTP } from "otpauth";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "../support/http";
import { rawMessage, smtpSend } from "../server/mail/gateway/helpers";
import { axeViolations, seriousOrCritical } from "./support/axe";
import {
  contextApi,
  launchChromium,
  newMailwardContext,
  newTrackedPage,
  UI_TIMEOUT_MS,
} from "./support/browser";
import { saveScreenshot, waitForView } from "./support/views";
import {
  sendThroughGateway,
  startE2EWorld,
  type E2EUser,
  type E2EWorld,
  type SentMail,
} from "./support/world";

/**
 * Issue 7, "Must show": the portal at /portal (no Office, cookie session) after a local sign-in with TOTP.
 * The user enrols through the API (enroll → confirm with a code), then signs in through the portal form:
 * password, then the code when the server answers mfa_required. Afterwards the same views work.
 */

let world: E2EWorld;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];
let user: E2EUser;
let secret: string;
let heldMail: SentMail;

/** A code from the user's authenticator (RFC 6238, SHA-1, 6 digits, 30 s) at `at`. */
function codeAt(at: number): string {
  return new TOTP({ algorithm: "SHA1", digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({
    timestamp: at,
  });
}

/** A 6-digit code that the server's ±1-step window cannot accept now. */
function wrongCode(): string {
  const now = Date.now();
  const valid = new Set([-60_000, -30_000, 0, 30_000, 60_000].map((offset) => codeAt(now + offset)));
  return ["123456", "654321", "111111"].find((code) => !valid.has(code)) ?? "222222";
}

beforeAll(async () => {
  // As in production: admin roles must enrol an authenticator before they get their permissions.
  world = await startE2EWorld({ config: { MAILWARD_ADMIN_TOTP: "required" } });
  user = await world.addUser("totp.agent@example.com");
  const api = new ApiClient(world.baseUrl);
  expect((await api.login(user.email, user.password)).status).toBe(200);
  const enrol = await api.request("POST", "/api/me/totp/enroll", {});
  expect(enrol.status).toBe(200);
  secret = String(enrol.json.secret);
  const confirmed = await api.request("POST", "/api/me/totp/confirm", { code: codeAt(Date.now()) });
  expect(confirmed.status).toBe(200);
  expect(confirmed.json).toMatchObject({ totpEnabled: true });
  api.csrfToken = String(confirmed.json.csrfToken);
  // From now on a password alone is not enough.
  const passwordOnly = await new ApiClient(world.baseUrl).login(user.email, user.password);
  expect(passwordOnly.status).toBe(401);
  expect(passwordOnly.json).toMatchObject({ error: "mfa_required" });

  expect(
    (await api.request("POST", "/api/senders", { pattern: "promo@held.example", kind: "block" })).status,
  ).toBe(201);
  heldMail = await sendThroughGateway(world, {
    from: "promo@held.example",
    name: "Promo Team",
    to: user.email,
    subject: "Portal held item",
    body: "Held for the portal test.",
  });
  expect(heldMail.reply.ok).toBe(true);

  browser = await launchChromium();
  ({ context } = await newMailwardContext(browser, world.baseUrl, { width: 1280, height: 900 }));
  ({ page, errors } = await newTrackedPage(context));
});

afterAll(async () => {
  await browser?.close();
  await world?.stop();
});

describe("portal with a local TOTP sign-in", () => {
  it("asks for the password, then the authenticator code; refuses a wrong code and signs in with the right one", async () => {
    await page.goto("/portal");
    await page.getByTestId("signin-email").waitFor();
    expect(await page.getByTestId("nav-held").count()).toBe(0);
    await saveScreenshot(page, "portal-signin-1280");
    expect(seriousOrCritical(await axeViolations(page))).toEqual([]);

    await page.getByTestId("signin-email").fill(user.email);
    await page.getByTestId("signin-password").fill(user.password);
    await page.getByTestId("signin-submit").click();
    await page.getByTestId("signin-totp").waitFor();
    expect(await page.getByTestId("signin-email").isDisabled()).toBe(true);
    expect(await page.getByTestId("signin-submit").innerText()).toBe("Verify");

    await page.getByTestId("signin-totp").fill(wrongCode());
    await page.getByTestId("signin-submit").click();
    await expect
      .poll(() => page.getByTestId("signin-error").getAttribute("data-error-id"), { timeout: UI_TIMEOUT_MS })
      .toBe("invalid_mfa_code");
    expect(await page.getByTestId("nav-held").count()).toBe(0);

    // The confirm step used the current time step; a code is accepted once, so sign in with the next one.
    await page.getByTestId("signin-totp").fill(codeAt(Date.now() + 30_000));
    await page.getByTestId("signin-submit").click();
    await page.getByTestId("nav-held").waitFor();
    expect(await page.getByTestId("sign-out").innerText()).toContain("totp.agent");
    const me = await contextApi(context, "GET", "/api/me");
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ email: user.email });
  });

  it("works like the task pane: no This message tab, the held message is listed, and a sender added in Senders reaches the API", async () => {
    expect(await page.getByTestId("nav-message").count()).toBe(0);
    await page.getByTestId("nav-held").click();
    await waitForView(page, '[data-testid="held-row"]');
    expect(await page.getByTestId("held-row").innerText()).toMatch(
      /promo@held\.example[\s\S]*Portal held item/,
    );
    await expect
      .poll(() => page.getByTestId("held-count").getAttribute("data-count"), { timeout: UI_TIMEOUT_MS })
      .toBe("1");
    await saveScreenshot(page, "portal-held-1280");

    await page.getByTestId("nav-senders").click();
    await waitForView(page, '[data-testid="sender-row"]');
    await page.getByTestId("sender-add-pattern").fill("Deals@Partner.test");
    await page.getByTestId("sender-add-submit").click();
    const row = page.locator('[data-testid="sender-row"][data-pattern="deals@partner.test"]');
    await row.waitFor();
    expect(await row.innerText()).toContain("deals@partner.test");
    const rules = await contextApi(context, "GET", "/api/senders?kind=block");
    expect(
      (rules.json as { items: { pattern: string; scope: string }[] }).items
        .map((rule) => rule.pattern)
        .sort(),
    ).toEqual(["deals@partner.test", "promo@held.example"]);
    expect(errors).toEqual([]);
  });

  it("makes an SMTP password in Settings that a device sends with, while the account password is refused over SMTP", async () => {
    await page.getByTestId("nav-settings").click();
    await page.getByTestId("smtp-password-label").fill("Office scanner");
    await page.getByTestId("smtp-password-create").click();
    const secret = (await page.getByTestId("smtp-password-secret").innerText()).trim();
    expect(secret).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    await page.locator('[data-testid="smtp-password-row"][data-label="Office scanner"]').waitFor();
    await saveScreenshot(page, "portal-smtp-password-1280");
    expect(seriousOrCritical(await axeViolations(page))).toEqual([]);

    const submit = (pass: string) => {
      const message = rawMessage({ from: user.email, to: "customer@elsewhere.test" });
      return smtpSend(
        world.server.smtpPort,
        { from: user.email, to: ["customer@elsewhere.test"] },
        message.raw,
        {
          auth: { user: user.email, pass },
        },
      ).then((reply) => ({ reply, messageId: message.messageId }));
    };
    // Two-step sign-in is on: SMTP cannot ask for the code, so the account password does not work there.
    expect((await submit(user.password)).reply).toMatchObject({ ok: false, code: 535 });
    const sent = await submit(secret);
    expect(sent.reply).toMatchObject({ ok: true, code: 250 });
    await world.sink.waitFor(() => world.sink.withMessageId(sent.messageId).length === 1);

    await page.getByTestId("smtp-password-done").click();
    await expect
      .poll(() => page.getByTestId("smtp-password-secret").count(), { timeout: UI_TIMEOUT_MS })
      .toBe(0);
    expect(await page.locator("body").innerText()).not.toContain(secret);
    expect(errors).toEqual([]);
  });

  it("keeps the session across a reload, and Sign out ends it (the API answers 401 afterwards)", async () => {
    await page.reload();
    await page.getByTestId("nav-held").waitFor();
    await page.getByTestId("sign-out").click();
    await page.getByTestId("signin-email").waitFor();
    expect((await contextApi(context, "GET", "/api/me")).status).toBe(401);
    expect(errors).toEqual([]);
  });
});

describe("portal: an admin who must enrol an authenticator first", () => {
  it("signs in to the setup, not to refused views; sees the recovery codes once; then a code from them signs in", async () => {
    const admin = await world.addUser("first.admin@example.com", ["tenant_admin"]);
    const { context: adminContext } = await newMailwardContext(browser, world.baseUrl, {
      width: 1280,
      height: 900,
    });
    const tracked = await newTrackedPage(adminContext);
    const adminPage = tracked.page;
    await adminPage.goto("/portal");
    await adminPage.getByTestId("signin-email").fill(admin.email);
    await adminPage.getByTestId("signin-password").fill(admin.password);
    await adminPage.getByTestId("signin-submit").click();
    await adminPage.getByTestId("enrolment-gate").waitFor();
    expect(await adminPage.getByTestId("nav-held").count()).toBe(0);
    expect(await adminPage.getByTestId("error-state").count()).toBe(0);

    await adminPage.getByTestId("totp-start").click();
    const adminSecret = (await adminPage.getByTestId("totp-secret").innerText()).replace(/\s+/g, "");
    const adminCode = new TOTP({
      algorithm: "SHA1",
      digits: 6,
      period: 30,
      secret: Secret.fromBase32(adminSecret),
    }).generate();
    await adminPage.getByTestId("totp-code").fill(adminCode);
    await adminPage.getByRole("button", { name: "Turn on" }).click();
    await adminPage.getByTestId("recovery-codes").waitFor();
    const codes = await adminPage.getByTestId("recovery-code").allInnerTexts();
    expect(codes.length).toBeGreaterThanOrEqual(8);
    await saveScreenshot(adminPage, "portal-recovery-codes-1280");
    expect(seriousOrCritical(await axeViolations(adminPage))).toEqual([]);
    await adminPage.getByTestId("recovery-codes-done").click();
    await adminPage.getByTestId("nav-settings").waitFor();
    const me = await contextApi(adminContext, "GET", "/api/me");
    expect(me.json).toMatchObject({ email: admin.email, mfaEnrolmentRequired: false });

    // The codes on screen are the real ones: sign out, then in with the password and one of them.
    await adminPage.getByTestId("sign-out").click();
    await adminPage.getByTestId("signin-email").fill(admin.email);
    await adminPage.getByTestId("signin-password").fill(admin.password);
    await adminPage.getByTestId("signin-submit").click();
    await adminPage.getByTestId("signin-totp").fill(codes[0]!.trim());
    await adminPage.getByTestId("signin-submit").click();
    await adminPage.getByTestId("nav-settings").waitFor();
    expect(tracked.errors).toEqual([]);
    await adminContext.close();
  });
});
