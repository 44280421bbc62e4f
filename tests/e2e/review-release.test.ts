import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  contextApi,
  launchChromium,
  newMailwardContext,
  newTrackedPage,
  signInContext,
  UI_TIMEOUT_MS,
} from "./support/browser";
import { openTab, saveScreenshot, waitForView } from "./support/views";
import {
  deliveriesSettled,
  sendPhishThroughGateway,
  startE2EWorld,
  type E2EUser,
  type E2EWorld,
  type SentMail,
} from "./support/world";

/**
 * The Review view in the portal: an agent asks for a phishing hold to be released (only a security admin may
 * release it); a security admin signs in to /portal, finds the request with the agent's note, looks at the
 * message in the sandboxed preview, approves it, and the message reaches the next hop exactly once; then
 * traces it (Review → Message trace) and sees the hold, the release and the delivery.
 */

interface HeldJson {
  id: string;
  subject: string;
  status: string;
  reason: string;
}

let world: E2EWorld;
let browser: Browser;
let agentContext: BrowserContext;
let adminContext: BrowserContext;
let admin: E2EUser;
let phish: SentMail;
let heldId: string;

beforeAll(async () => {
  world = await startE2EWorld();
  admin = await world.addUser("security@example.com", ["security_admin"]);
  browser = await launchChromium();
  ({ context: agentContext } = await newMailwardContext(browser, world.baseUrl, {
    width: 1280,
    height: 900,
  }));
  ({ context: adminContext } = await newMailwardContext(browser, world.baseUrl, {
    width: 1280,
    height: 900,
  }));
  await signInContext(agentContext, world.agent.email, world.agent.password);

  phish = await sendPhishThroughGateway(world, { to: world.agent.email, subject: "Account locked 7731" });
  expect(phish.reply).toMatchObject({ ok: true, code: 250 });
  const listed = await contextApi(agentContext, "GET", "/api/held?status=held");
  const held = (listed.json as { items: HeldJson[] }).items.find((item) => item.subject === phish.subject);
  expect(held).toMatchObject({ reason: "phish", status: "held" });
  heldId = held?.id ?? "?";
  // The agent may not release a phishing hold themself; they ask the security team instead.
  expect((await contextApi(agentContext, "POST", `/api/held/${heldId}/release`, {})).json).toMatchObject({
    error: "release_not_allowed",
  });
  const asked = await contextApi(agentContext, "POST", `/api/held/${heldId}/request-release`, {
    note: "This is our payment provider, I need it today",
  });
  expect(asked).toMatchObject({ status: 200, json: { status: "release_requested" } });
});

afterAll(async () => {
  await browser?.close();
  await world?.stop();
});

describe("Review: release requests in the portal", () => {
  it("is not offered to the agent", async () => {
    const { page, errors } = await newTrackedPage(agentContext);
    await page.goto("/portal");
    await page.getByTestId("nav-held").waitFor();
    expect(await page.getByTestId("nav-review").count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a security admin approves the agent's phish release request: delivered to the next hop exactly once", async () => {
    const { page, errors } = await newTrackedPage(adminContext);
    await page.goto("/portal");
    await page.getByTestId("signin-email").fill(admin.email);
    await page.getByTestId("signin-password").fill(admin.password);
    await page.getByTestId("signin-submit").click();
    await openTab(page, "review");

    const row = page.locator(`[data-testid="review-request-row"][data-held-id="${heldId}"]`);
    await waitForView(page, `[data-testid="review-request-row"][data-held-id="${heldId}"]`);
    const text = await row.innerText();
    expect(text).toContain("Account locked 7731");
    expect(text).toContain("accounts@held.example");
    expect(text).toContain(`requested by ${world.agent.email}`);
    expect(text).toContain("Phishing");
    expect(text).toContain("This is our payment provider, I need it today");
    await deliveriesSettled(world);
    expect(world.sink.withMessageId(phish.messageId)).toHaveLength(0);

    await row.getByTestId("review-request-open").click();
    const detail = page.getByTestId("review-request-detail");
    await waitForView(page, '[data-testid="review-request-detail"] [data-testid="message-preview"]');
    expect(await detail.getByRole("heading", { level: 2 }).textContent()).toBe("Account locked 7731");
    // The reason in plain words, and the sender's HTML only inside the sandboxed frame.
    expect(await detail.getByTestId("review-signals").innerText()).toMatch(/after an @ sign/);
    const preview = detail.getByTestId("message-preview");
    expect(await preview.getAttribute("sandbox")).toBe("");
    expect(await preview.contentFrame().locator("body").innerText()).toContain("Your account is locked");
    await saveScreenshot(page, "portal-review-request-1280");

    await detail.getByTestId("review-decision-note").fill("Checked with the payment provider");
    await detail.getByTestId("review-approve").click();
    // Releasing a phishing hold takes a second click on the warning that says what it means.
    const warning = detail.getByTestId("review-approve-warning");
    await warning.waitFor();
    expect(await warning.innerText()).toContain(`goes to ${world.agent.email}`);
    expect(world.sink.withMessageId(phish.messageId)).toHaveLength(0);
    await detail.getByTestId("review-approve-confirm").click();
    await expect
      .poll(() => page.getByTestId("review-outcome").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain(`“Account locked 7731” was released to ${world.agent.email}`);
    await row.waitFor({ state: "detached" });
    await page.getByTestId("review-requests-empty").waitFor();

    await world.sink.waitFor(() => world.sink.withMessageId(phish.messageId).length >= 1, UI_TIMEOUT_MS);
    // Approving again (a double click, a retry) must not send it twice.
    const again = await contextApi(adminContext, "POST", `/api/admin/held/${heldId}/approve`, {});
    expect(again.status).toBe(200);
    await deliveriesSettled(world);
    const delivered = world.sink.withMessageId(phish.messageId);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.rcptTo).toEqual([world.agent.email]);
    // The archived bytes, exactly, behind the trace fields of the SMTP session it came in on.
    const relayed = delivered[0]?.raw ?? Buffer.alloc(0);
    expect(relayed.subarray(relayed.length - phish.raw.length).equals(phish.raw)).toBe(true);
    expect(relayed.toString("latin1", 0, 15)).toBe("Received: from ");
    const after = await contextApi(agentContext, "GET", `/api/held/${heldId}`);
    expect(after.json).toMatchObject({ status: "released", releaseRequest: { status: "approved" } });
    expect(errors).toEqual([]);
  });

  it("a security admin traces that message: held as phishing, released, delivered to the next hop", async () => {
    const { page, errors } = await newTrackedPage(adminContext);
    await page.goto("/portal");
    await openTab(page, "review");
    await page.getByTestId("review-tab-trace").click();
    await page.getByTestId("trace-messageId").fill(phish.messageId);
    await page.getByTestId("trace-search").click();
    await waitForView(page, '[data-testid="trace-row"]');
    const rows = page.getByTestId("trace-row");
    expect(await rows.count()).toBe(1);
    const text = await rows.first().innerText();
    // No subject without archive.read_any: the Message-ID stands in for it.
    expect(text).toContain(phish.messageId);
    expect(text).not.toContain("Account locked 7731");
    expect(text).toContain(world.agent.email);
    expect(text).toMatch(/Held \(Phishing\): Released; Delivered to the next hop at .*: 250/);
    await saveScreenshot(page, "portal-message-trace-1280");
    expect(errors).toEqual([]);
  });
});
