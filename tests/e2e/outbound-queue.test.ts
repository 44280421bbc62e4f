import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  launchChromium,
  newMailwardContext,
  newTrackedPage,
  signInContext,
  UI_TIMEOUT_MS,
} from "./support/browser";
import { openTab, saveScreenshot } from "./support/views";
import {
  deliveriesSettled,
  sendThroughGateway,
  startE2EWorld,
  type E2EWorld,
  type SentMail,
} from "./support/world";

/**
 * The outbound queue in the portal: Microsoft 365 (the sink) refuses mail for a while, so clean mail waits with
 * an hour's backoff. An IT admin opens Review, sees the mail waiting and the next hop's answer, and once the hop
 * is back presses "Retry now": the mail arrives at once, exactly once.
 */

let world: E2EWorld;
let browser: Browser;
let itContext: BrowserContext;
let sent: SentMail;

beforeAll(async () => {
  world = await startE2EWorld({ retryBaseSeconds: 3600 });
  const itAdmin = await world.addUser("it@example.com", ["tenant_admin"]);
  browser = await launchChromium();
  ({ context: itContext } = await newMailwardContext(browser, world.baseUrl, { width: 1280, height: 900 }));
  await signInContext(itContext, itAdmin.email, itAdmin.password);

  world.sink.setMode({ kind: "tempfail", reply: "4.7.500 Server busy. Please try again later" });
  sent = await sendThroughGateway(world, {
    from: "orders@nice.test",
    to: world.agent.email,
    subject: "Your order 5512",
  });
  expect(sent.reply).toMatchObject({ ok: true, code: 250 });
  const db = world.server.mailward.services.db;
  const deadline = Date.now() + UI_TIMEOUT_MS;
  for (;;) {
    const row = await db
      .selectFrom("deliveries")
      .select("state")
      .where("recipient", "=", world.agent.email)
      .executeTakeFirst();
    if (row?.state === "deferred") break;
    if (Date.now() > deadline) throw new Error(`the delivery never deferred (${row?.state ?? "no row"})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await world?.stop();
});

describe("Outbound queue in the portal", () => {
  it("an IT admin sees mail waiting for the next hop and why, and sends it with 'Retry now' once the hop is back", async () => {
    const { page, errors } = await newTrackedPage(itContext);
    await page.goto("/portal");
    await openTab(page, "review");
    const status = page.getByTestId("queue-status");
    await status.waitFor({ timeout: UI_TIMEOUT_MS });
    const text = await status.innerText();
    expect(text).toContain(`To ${world.sink.address}: 1 delivery waiting, 1 deferred`);
    expect(text).toContain("451 4.7.500 Server busy");
    await saveScreenshot(page, "portal-outbound-queue-1280");

    world.sink.setMode({ kind: "accept" });
    await page.getByTestId("queue-retry").click();
    await expect
      .poll(async () => page.getByTestId("queue-retried").innerText(), { timeout: UI_TIMEOUT_MS })
      .toBe("1 delivery will be tried now.");
    // Not an hour later: now, and once.
    await world.sink.waitFor((messages) => messages.some((m) => m.messageId === sent.messageId), 15_000);
    await deliveriesSettled(world, 15_000);
    expect(world.sink.withMessageId(sent.messageId)).toHaveLength(1);
    await page.getByTestId("queue-retry").waitFor({ state: "detached", timeout: UI_TIMEOUT_MS });
    expect(errors).toEqual([]);
  });
});
