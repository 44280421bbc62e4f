import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contextApi, launchChromium, newTrackedPage, signInContext, UI_TIMEOUT_MS } from "./support/browser";
import { openTab, waitForView } from "./support/views";
import { sendThroughGateway, startE2EWorld, type E2EWorld, type SentMail } from "./support/world";

/**
 * "Show images" in the real portal, for a held and an archived message: before the click the preview fetches no
 * remote image; after it, the https image is really requested, while a tracking pixel never is. Requests are
 * seen by the browser's proxy (a recorder on loopback: every non-loopback request reaches it as a CONNECT), not by
 * Playwright's request events, which miss subresources of sandboxed frames; the portal itself is loopback and
 * bypasses it. A link in the preview opens nothing: no page, no request.
 */

interface Recorder {
  server: http.Server;
  origin: string;
  /** Hosts (host:port of a CONNECT, or the URL of a plain proxied request) asked for, in order. */
  seen: string[];
}

async function startRecorder(): Promise<Recorder> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? "");
    res.writeHead(502).end();
  });
  server.on("connect", (req: http.IncomingMessage, socket: Duplex) => {
    seen.push(req.url ?? "");
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}`, seen };
}

const HELD_IMAGE = "img.held.example";
const ARCHIVE_IMAGE = "img.archive.example";
const PIXEL = "pixel.held.example";
const LINK = "shop.held.example";

/** A newsletter: a visible remote image, a 1×1 tracking pixel and a link. */
function newsletter(imageHost: string): string {
  return (
    `<h1>Spring catalogue</h1><p>40 % off <a href="https://${LINK}/garden">garden furniture</a>.</p>` +
    `<img src="https://${imageHost}/banner.png" alt="Banner" width="600" height="200">` +
    `<img src="https://${PIXEL}/open.gif" width="1" height="1" alt="">`
  );
}

let world: E2EWorld;
let recorder: Recorder;
let browser: Browser;
let context: BrowserContext;
let held: SentMail;
let archived: SentMail;

beforeAll(async () => {
  world = await startE2EWorld();
  recorder = await startRecorder();
  browser = await launchChromium({ proxy: { server: recorder.origin, bypass: "127.0.0.1,localhost" } });
  context = await browser.newContext({ baseURL: world.baseUrl, viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  await signInContext(context, world.agent.email, world.agent.password);
  for (const rule of [
    { pattern: "promo@held.example", kind: "block" },
    { pattern: "news@nice.test", kind: "permit" },
  ]) {
    expect((await contextApi(context, "POST", "/api/senders", rule)).status).toBe(201);
  }
  held = await sendThroughGateway(world, {
    from: "promo@held.example",
    to: world.agent.email,
    subject: "Spring catalogue 4411 (held)",
    html: true,
    body: newsletter(HELD_IMAGE),
  });
  archived = await sendThroughGateway(world, {
    from: "news@nice.test",
    to: world.agent.email,
    subject: "Spring catalogue 4412 (delivered)",
    html: true,
    body: newsletter(ARCHIVE_IMAGE),
  });
  expect([held.reply.ok, archived.reply.ok]).toEqual([true, true]);
  await world.sink.waitFor(() => world.sink.withMessageId(archived.messageId).length === 1, UI_TIMEOUT_MS);
});

afterAll(async () => {
  await browser?.close();
  recorder?.server.closeAllConnections();
  await new Promise<void>((resolve) => (recorder ? recorder.server.close(() => resolve()) : resolve()));
  await world?.stop();
});

function requested(host: string): boolean {
  return recorder.seen.some((target) => target === `${host}:443` || target.includes(`//${host}/`));
}

/** Checks the preview before and after "Show images"; `root` is the view's test id. */
async function showImages(page: Page, root: string, imageHost: string): Promise<void> {
  const preview = page.getByTestId(root).getByTestId("message-preview");
  const frame = preview.contentFrame();
  await frame.locator("body").getByText("garden furniture").waitFor();
  // The image is a placeholder and nothing was fetched; the pixel is gone.
  await frame.locator('img[data-mw-blocked="remote"]').waitFor();
  expect(await frame.locator(`img[src*="${PIXEL}"]`).count()).toBe(0);
  expect([imageHost, PIXEL].filter(requested)).toEqual([]);

  await page.getByTestId(root).getByTestId("show-remote-images").click();
  await frame.locator(`img[src="https://${imageHost}/banner.png"]`).waitFor();
  await expect
    .poll(() => requested(imageHost), { timeout: 15_000, message: `a request to ${imageHost}` })
    .toBe(true);
  expect(requested(PIXEL)).toBe(false);
  expect(await frame.locator(`img[src*="${PIXEL}"]`).count()).toBe(0);

  // A link in the preview opens nothing (no popup, no navigation, no request).
  const pagesBefore = context.pages().length;
  await frame.getByText("garden furniture").click();
  await page.waitForTimeout(1_000);
  expect(context.pages().length).toBe(pagesBefore);
  expect(requested(LINK)).toBe(false);
  await frame.locator("body").getByText("garden furniture").waitFor();
}

describe("Show images in the portal", () => {
  it("the recorder sees a remote image a page loads (control)", async () => {
    const page = await context.newPage();
    await page.setContent('<img src="https://control.example/x.png" alt="">');
    await expect.poll(() => requested("control.example"), { timeout: 15_000 }).toBe(true);
    await page.close();
  });

  it("a held message: no remote image before the click, the https image after it, never the pixel", async () => {
    const { page, errors } = await newTrackedPage(context);
    await page.goto("/portal");
    await openTab(page, "held");
    await waitForView(page, '[data-testid="held-row"]');
    await page.getByTestId("held-row").filter({ hasText: held.subject }).getByTestId("held-open").click();
    await waitForView(page, '[data-testid="held-detail"] [data-testid="message-preview"]');
    await showImages(page, "held-detail", HELD_IMAGE);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("an archived message: no remote image before the click, the https image after it, never the pixel", async () => {
    const { page, errors } = await newTrackedPage(context);
    await page.goto("/portal");
    await openTab(page, "archive");
    await page.getByTestId("archive-search-input").fill('"4412"');
    await page.getByTestId("archive-search-submit").click();
    await waitForView(page, '[data-testid="archive-result"]');
    await page.getByTestId("archive-result").first().getByRole("button").click();
    await waitForView(page, '[data-testid="archive-message"] [data-testid="message-preview"]');
    await showImages(page, "archive-message", ARCHIVE_IMAGE);
    expect(errors).toEqual([]);
    await page.close();
  });
});
