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
 * The organisation's quarantine in the portal: a security admin lists everyone's held messages (Held → Whose →
 * Everyone's), sees whose each one is, orders them by score, opens a colleague's phishing hold and releases it after
 * the warning's second click; it reaches the next hop exactly once. An agent is offered no such list.
 */

interface HeldJson {
  id: string;
  subject: string;
  status: string;
}

let world: E2EWorld;
let browser: Browser;
let adminContext: BrowserContext;
let agentContext: BrowserContext;
let admin: E2EUser;
let colleague: E2EUser;
let forAgent: SentMail;
let forColleague: SentMail;

beforeAll(async () => {
  world = await startE2EWorld();
  admin = await world.addUser("security@example.com", ["security_admin"]);
  colleague = await world.addUser("colleague@example.com");
  browser = await launchChromium();
  ({ context: adminContext } = await newMailwardContext(browser, world.baseUrl, {
    width: 1280,
    height: 900,
  }));
  ({ context: agentContext } = await newMailwardContext(browser, world.baseUrl, {
    width: 1280,
    height: 900,
  }));
  await signInContext(adminContext, admin.email, admin.password);
  await signInContext(agentContext, world.agent.email, world.agent.password);
  forAgent = await sendPhishThroughGateway(world, { to: world.agent.email, subject: "Account locked 5512" });
  forColleague = await sendPhishThroughGateway(world, {
    to: colleague.email,
    subject: "Account locked 5513",
  });
  expect([forAgent.reply.code, forColleague.reply.code]).toEqual([250, 250]);
});

afterAll(async () => {
  await browser?.close();
  await world?.stop();
});

describe("Held: everyone's held messages, for a security admin", () => {
  it("offers an agent only their own held messages (no Whose menu)", async () => {
    const { page, errors } = await newTrackedPage(agentContext);
    await page.goto("/portal");
    await openTab(page, "held");
    await waitForView(page, '[data-testid="held-row"]');
    expect(await page.getByTestId("held-whose").count()).toBe(0);
    const rows = await page.getByTestId("held-row").allInnerTexts();
    expect(rows.join("\n")).toContain("Account locked 5512");
    expect(rows.join("\n")).not.toContain("Account locked 5513");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("lists both people's holds with their recipients, and releases the agent's after the warning: delivered once", async () => {
    const { page, errors } = await newTrackedPage(adminContext);
    await page.goto("/portal");
    await openTab(page, "held");
    await page.getByTestId("held-whose").selectOption("review");
    await page.getByTestId("held-sort").selectOption("score");
    const agentRow = page.locator('[data-testid="held-row"]', { hasText: "Account locked 5512" });
    const colleagueRow = page.locator('[data-testid="held-row"]', { hasText: "Account locked 5513" });
    await agentRow.waitFor({ timeout: UI_TIMEOUT_MS });
    await colleagueRow.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await agentRow.getByTestId("held-recipient").innerText()).toBe(`to ${world.agent.email}`);
    expect(await colleagueRow.getByTestId("held-recipient").innerText()).toBe(`to ${colleague.email}`);
    await saveScreenshot(page, "portal-held-everyone-1280");

    await agentRow.getByTestId("held-open").click();
    const detail = page.getByTestId("held-detail");
    await waitForView(page, '[data-testid="held-detail"] [data-testid="message-preview"]');
    await detail.getByTestId("held-release").click();
    const warning = detail.getByTestId("held-release-warning");
    await warning.waitFor();
    expect(await warning.innerText()).toContain(`It goes to ${world.agent.email}`);
    await deliveriesSettled(world);
    expect(world.sink.withMessageId(forAgent.messageId)).toHaveLength(0);
    await detail.getByTestId("held-release-confirm").click();
    await detail.getByTestId("held-action-done").waitFor({ timeout: UI_TIMEOUT_MS });

    await world.sink.waitFor(() => world.sink.withMessageId(forAgent.messageId).length >= 1, UI_TIMEOUT_MS);
    await deliveriesSettled(world);
    expect(world.sink.withMessageId(forAgent.messageId).map((m) => m.rcptTo)).toEqual([[world.agent.email]]);
    expect(world.sink.withMessageId(forColleague.messageId)).toHaveLength(0);
    // Looking at someone else's held mail is on the record, with whose it was.
    const viewed = await world.server.mailward.services.db
      .selectFrom("audit_events")
      .select(["actor_id", "details"])
      .where("action", "=", "held.view_other")
      .execute();
    expect(viewed.map((e) => [e.actor_id, (e.details as { recipient?: string }).recipient])).toContainEqual([
      admin.id,
      world.agent.email,
    ]);
    // The agent's own list says so; the colleague's hold is untouched.
    const listed = await contextApi(agentContext, "GET", "/api/held?status=released");
    expect((listed.json as { items: HeldJson[] }).items.map((i) => i.subject)).toContain(
      "Account locked 5512",
    );
    expect(errors).toEqual([]);
  });

  it("narrows everyone's held messages to one recipient", async () => {
    const { page, errors } = await newTrackedPage(adminContext);
    await page.goto("/portal");
    await openTab(page, "held");
    await page.getByTestId("held-whose").selectOption("review");
    await page.getByTestId("held-status").selectOption("");
    await page.locator('[data-testid="held-row"]', { hasText: "Account locked 5512" }).waitFor();
    await page.getByTestId("held-recipient-filter").fill(colleague.email.toUpperCase());
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page
      .locator('[data-testid="held-row"]', { hasText: "Account locked 5512" })
      .waitFor({ state: "detached" });
    // The old rows leave as the new page is asked for: read the rows once the narrowed page has come.
    await page.locator('[data-testid="held-row"]', { hasText: "Account locked 5513" }).waitFor();
    const rows = await page.getByTestId("held-row").allInnerTexts();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain("Account locked 5513");
    expect(errors).toEqual([]);
    await page.close();
  });
});
