import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  contextApi,
  launchChromium,
  newMailwardContext,
  newTrackedPage,
  signInContext,
  taskpaneUrl,
  UI_TIMEOUT_MS,
} from "./support/browser";
import { installCommandHost, runFunctionCommand } from "./support/command-host";
import { deliveriesSettled, sendThroughGateway, startE2EWorld, type E2EWorld } from "./support/world";

/**
 * Issue 7, "Must show": the task pane in Chromium, with the test Office shim playing an Outlook message,
 * against a real Mailward (PGlite, SMTP gateway, delivery queue) whose next hop is a real SMTP sink.
 * One server, one browser and one signed-in context (320 px, the task pane width) for the whole file.
 */

let world: E2EWorld;
let browser: Browser;
let context: BrowserContext;
const opened: Page[] = [];

interface RuleJson {
  id: string;
  pattern: string;
  kind: string;
  scope: string;
}

interface HeldJson {
  id: string;
  subject: string;
  status: string;
  reason: string;
}

async function rulesFor(pattern: string): Promise<RuleJson[]> {
  const res = await contextApi(context, "GET", "/api/senders?limit=100");
  expect(res.status).toBe(200);
  return (res.json as { items: RuleJson[] }).items.filter((rule) => rule.pattern === pattern);
}

async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const tracked = await newTrackedPage(context);
  opened.push(tracked.page);
  return tracked;
}

beforeAll(async () => {
  world = await startE2EWorld();
  browser = await launchChromium();
  ({ context } = await newMailwardContext(browser, world.baseUrl, { width: 320, height: 900 }));
  await signInContext(context, world.agent.email, world.agent.password);
});

afterAll(async () => {
  await browser?.close();
  await world?.stop();
});

describe("task pane with the Office shim", () => {
  it("Block sender on the open message: the rule shows in the Senders list and in GET /api/senders", async () => {
    expect(await rulesFor("bad@spam.example")).toEqual([]);
    const { page, errors } = await openPage();
    // The first opening fetches the task pane's script: the build's brotli copy (server/http/static-files.ts).
    const scriptEncodings: string[] = [];
    page.on("response", (response) => {
      if (/^\/taskpane\.[0-9a-f]{8}\.js$/.test(new URL(response.url()).pathname))
        scriptEncodings.push(response.headers()["content-encoding"] ?? "identity");
    });
    await page.goto(
      taskpaneUrl({
        from: "Bad@Spam.example",
        name: "Prize Desk",
        subject: "You won",
        mid: "<won-1@spam.example>",
      }),
    );
    await expect
      .poll(() => page.getByTestId("sender-address").textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe("bad@spam.example");
    expect(scriptEncodings).toEqual(["br"]);

    await page.getByRole("button", { name: "Block sender bad@spam.example" }).click();
    await expect
      .poll(() => page.getByTestId("sender-rule-state").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain("You blocked bad@spam.example");
    expect(await page.getByTestId("block-sender").isDisabled()).toBe(true);

    const rules = await rulesFor("bad@spam.example");
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ kind: "block", scope: "user" });

    await page.getByTestId("nav-senders").click();
    const row = page.locator('[data-testid="sender-row"][data-pattern="bad@spam.example"]');
    await row.waitFor();
    expect(await row.innerText()).toMatch(/bad@spam\.example[\s\S]*Never expires/);
    expect(await page.getByRole("list", { name: "Blocked senders" }).getByTestId("sender-row").count()).toBe(
      1,
    );
    expect(errors).toEqual([]);
  });

  it("the Block sender ribbon command (commands.js): completes once, notifies, and the task pane offers Undo", async () => {
    const sender = "ribbon@spam.example";
    expect(await rulesFor(sender)).toEqual([]);
    const { page: commands, errors: commandErrors } = await openPage();
    await installCommandHost(commands, {
      from: "Ribbon@Spam.example",
      name: "Ribbon",
      subject: "Cheap pills",
      mid: "<pills-1@spam.example>",
      itemId: "AAMk/ribbon+1=",
    });
    await commands.goto("/commands.html");
    const outcome = await runFunctionCommand(commands, "blockSender");
    expect(outcome.completedCalls).toBe(1);
    expect(outcome.notifications).toHaveLength(1);
    expect(outcome.notifications[0]).toMatchObject({ key: "mailward", type: "informationalMessage" });
    expect(outcome.notifications[0]?.message).toMatch(/^Blocked ribbon@spam\.example\./);
    expect(await rulesFor(sender)).toEqual([expect.objectContaining({ kind: "block", scope: "user" })]);
    expect(commandErrors).toEqual([]);

    // Same origin, same storage: the task pane finds the command's note and offers Undo.
    const { page, errors } = await openPage();
    await page.goto(
      taskpaneUrl({ from: sender, subject: "Cheap pills", mid: "<pills-1@spam.example>" }, "senders"),
    );
    await expect
      .poll(() => page.getByTestId("undo-banner").textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain(`You blocked ${sender}.`);
    await page.locator(`[data-testid="sender-row"][data-pattern="${sender}"]`).waitFor();
    await page.getByTestId("undo-last-action").click();
    await page.getByTestId("undo-banner").waitFor({ state: "detached" });
    await page.locator(`[data-testid="sender-row"][data-pattern="${sender}"]`).waitFor({ state: "detached" });
    expect(await rulesFor(sender)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("releases a held message from the Held view: it reaches the next hop exactly once", async () => {
    const created = await contextApi(context, "POST", "/api/senders", {
      pattern: "promo@held.example",
      kind: "block",
    });
    expect(created.status).toBe(201);
    const mail = await sendThroughGateway(world, {
      from: "promo@held.example",
      name: "Promo",
      to: world.agent.email,
      subject: "Held for release 7",
      body: "Spring catalogue inside.",
    });
    expect(mail.reply).toMatchObject({ ok: true, code: 250 });
    const listed = await contextApi(context, "GET", "/api/held?status=held");
    const held = (listed.json as { items: HeldJson[] }).items.find((item) => item.subject === mail.subject);
    expect(held).toMatchObject({ status: "held", reason: "blocked_sender" });
    await deliveriesSettled(world);
    expect(world.sink.withMessageId(mail.messageId)).toHaveLength(0);

    const { page, errors } = await openPage();
    await page.goto(taskpaneUrl({ from: "someone@nice.test" }, "held"));
    await expect
      .poll(() => page.getByTestId("held-count").getAttribute("data-count"), { timeout: UI_TIMEOUT_MS })
      .toBe("1");
    const row = page.locator(`[data-testid="held-row"][data-held-id="${held?.id ?? "?"}"]`);
    expect(await row.innerText()).toMatch(/promo@held\.example[\s\S]*Held for release 7/);
    await row.getByTestId("held-open").click();
    const detail = page.getByTestId("held-detail");
    await expect
      .poll(() => detail.getByRole("heading", { level: 2 }).textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe("Held for release 7");
    await detail.getByTestId("held-release").click();
    await expect
      .poll(() => page.getByTestId("held-action-done").textContent(), { timeout: UI_TIMEOUT_MS })
      .toMatch(/released/i);

    await world.sink.waitFor(() => world.sink.withMessageId(mail.messageId).length >= 1, UI_TIMEOUT_MS);
    // A second release (API) must not send it again.
    const again = await contextApi(context, "POST", `/api/held/${held?.id ?? "?"}/release`, {});
    expect(again.status).toBeLessThan(500);
    await deliveriesSettled(world);
    const delivered = world.sink.withMessageId(mail.messageId);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.rcptTo).toEqual([world.agent.email]);
    // The archived bytes, exactly, behind the trace fields of the SMTP session it came in on.
    const relayed = delivered[0]?.raw ?? Buffer.alloc(0);
    expect(relayed.subarray(relayed.length - mail.raw.length).equals(mail.raw)).toBe(true);
    expect(relayed.toString("latin1", 0, 15)).toBe("Received: from ");
    const after = await contextApi(context, "GET", `/api/held/${held?.id ?? "?"}`);
    expect(after.json).toMatchObject({ status: "released" });
    expect(errors).toEqual([]);
  });

  it("searches the archive with a quoted phrase, opens the result, forwards it and follows the delivery", async () => {
    const wanted = await sendThroughGateway(world, {
      from: "orders@nice.test",
      name: "Orders",
      to: world.agent.email,
      subject: "Shipping papers 4711",
      body: "Hello, the pallet invoice for March is attached below.",
    });
    const decoy = await sendThroughGateway(world, {
      from: "orders@nice.test",
      name: "Orders",
      to: world.agent.email,
      subject: "Another note 4712",
      body: "The invoice came late; the pallet is still in the yard.",
    });
    expect([wanted.reply.ok, decoy.reply.ok]).toEqual([true, true]);
    await world.sink.waitFor(
      () =>
        world.sink.withMessageId(wanted.messageId).length === 1 &&
        world.sink.withMessageId(decoy.messageId).length === 1,
      UI_TIMEOUT_MS,
    );

    const { page, errors } = await openPage();
    await page.goto(taskpaneUrl({ from: "someone@nice.test" }, "archive"));
    const results = page.getByTestId("archive-result");
    // Both words without quotes: both messages match, so the phrase below is what leaves the decoy out.
    await page.getByTestId("archive-search-input").fill("pallet invoice");
    await page.getByTestId("archive-search-submit").click();
    await expect.poll(() => results.count(), { timeout: UI_TIMEOUT_MS }).toBe(2);

    await page.getByTestId("archive-search-input").fill('"pallet invoice"');
    await page.getByTestId("archive-search-submit").click();
    await expect.poll(() => results.count(), { timeout: UI_TIMEOUT_MS }).toBe(1);
    const hit = results.first();
    expect(await hit.innerText()).toContain("Shipping papers 4711");
    expect(await hit.locator("mark").allInnerTexts()).toEqual(
      expect.arrayContaining([expect.stringMatching(/pallet invoice/i)]),
    );

    await hit.getByRole("button").click();
    const message = page.getByTestId("archive-message");
    await expect
      .poll(() => message.getByRole("heading", { level: 2 }).textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe("Shipping papers 4711");
    expect(await message.innerText()).toContain("From: Orders <orders@nice.test>");
    const preview = message.getByTestId("message-preview");
    const tag = await preview.evaluate((element) => element.tagName.toLowerCase());
    const body =
      tag === "iframe" ? await preview.contentFrame().locator("body").innerText() : await preview.innerText();
    expect(body).toContain("the pallet invoice for March is attached");

    // Forward it, then follow the forward's delivery on the message that was sent (real queue, real sink).
    await message.getByTestId("archive-forward").click();
    await message.getByTestId("archive-forward-to").fill("broker@customs.test");
    await message.getByTestId("archive-compose-text").fill("Papers for the broker");
    await message.getByTestId("archive-send").click();
    await page.getByTestId("archive-follow-send").click({ timeout: UI_TIMEOUT_MS });
    await expect
      .poll(() => page.getByTestId("archive-message").getByRole("heading", { level: 2 }).textContent(), {
        timeout: UI_TIMEOUT_MS,
      })
      .toBe("Fwd: Shipping papers 4711");
    await world.sink.waitFor(
      () => world.sink.messages.some((m) => m.rcptTo.includes("broker@customs.test")),
      UI_TIMEOUT_MS,
    );
    // The view re-reads a send that is not final, until the worker has recorded the delivery.
    await expect
      .poll(() => page.getByTestId("archive-sending").innerText(), { timeout: UI_TIMEOUT_MS })
      .toContain("broker@customs.test: delivered");
    expect(await page.getByTestId("archive-sending").innerText()).toContain("Delivered to every recipient");
    expect(errors).toEqual([]);
  });

  it("asks for the first view's code and its verdict while the person's identity is still being asked for, not after", async () => {
    // A new context: this file's own has the chunks cached already.
    const { context: cold } = await newMailwardContext(browser, world.baseUrl, { width: 320, height: 900 });
    try {
      await signInContext(cold, world.agent.email, world.agent.password);
      // What is asked for before GET /api/me is answered; the answer is held until the view's code and its verdict
      // have been asked for (or 10 s have passed).
      const chunksBeforeIdentity: string[] = [];
      const lookups: boolean[] = [];
      let identityAnswered = false;
      cold.on("request", (request) => {
        const { pathname } = new URL(request.url());
        if (!identityAnswered && pathname.startsWith("/chunks/") && !pathname.includes("office-shim"))
          chunksBeforeIdentity.push(pathname);
        if (pathname === "/api/archive/lookup") lookups.push(identityAnswered);
      });
      await cold.route("**/api/me", async (route) => {
        const deadline = Date.now() + 10_000;
        while ((chunksBeforeIdentity.length === 0 || lookups.length === 0) && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 20));
        identityAnswered = true;
        await route.continue();
      });
      const page = await cold.newPage();
      await page.goto(taskpaneUrl({ from: "early@nice.test", subject: "Early", mid: "<early-1@nice.test>" }));
      await page.getByTestId("not-scanned").waitFor({ timeout: UI_TIMEOUT_MS });
      expect(chunksBeforeIdentity.length).toBeGreaterThan(0);
      // Asked for once, before the identity's answer: the view showed that answer instead of asking again.
      expect(lookups).toEqual([false]);
    } finally {
      await cold.close();
    }
  });

  it("each page names its first view's scripts in its head, and the view's own import reuses them", async () => {
    const pages = [
      {
        url: taskpaneUrl({ from: "preload@nice.test", subject: "Preload", mid: "<preload-1@nice.test>" }),
        ready: "not-scanned",
      },
      { url: "/portal#held", ready: "held-status" },
    ];
    for (const { url, ready } of pages) {
      const { context: cold } = await newMailwardContext(browser, world.baseUrl, {
        width: 1024,
        height: 900,
      });
      try {
        await signInContext(cold, world.agent.email, world.agent.password);
        const chunkRequests: string[] = [];
        cold.on("request", (request) => {
          const { pathname } = new URL(request.url());
          if (pathname.startsWith("/chunks/") && !pathname.includes("office-shim"))
            chunkRequests.push(pathname);
        });
        const page = await cold.newPage();
        await page.goto(url);
        await page.getByTestId(ready).waitFor({ timeout: UI_TIMEOUT_MS });
        const preloaded = await page.evaluate(() =>
          [...document.head.querySelectorAll<HTMLLinkElement>('link[rel="preload"][as="script"]')].map(
            (link) => new URL(link.href).pathname,
          ),
        );
        expect(preloaded.length, url).toBeGreaterThan(0);
        // What the first view loaded had been named by the page; each file crossed the network once.
        expect(chunkRequests.length, url).toBeGreaterThan(0);
        expect(new Set(chunkRequests).size, `${url}: ${chunkRequests.join(", ")}`).toBe(chunkRequests.length);
        for (const chunk of chunkRequests) expect(preloaded, url).toContain(chunk);
      } finally {
        await cold.close();
      }
    }
  });
});
