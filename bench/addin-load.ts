import { chromium, type Browser, type BrowserContext, type Page, type Response } from "playwright-core";
import { SESSION_COOKIE } from "../server/auth/sessions";

/** Where the add-in is opened: the Outlook task pane (the test Office shim playing one message) or the portal. */
export interface Surface {
  name: string;
  path: string;
  viewport: { width: number; height: number };
  /** When a person can act: each selector of `present` matches in the page and none of `absent` does. */
  interactive: { present: string[]; absent: string[] };
}

/** A network between the browser and Mailward: none (loopback) or one emulated by Chromium (DevTools throttling). */
export interface NetworkProfile {
  name: string;
  /** Round-trip latency added to each request, ms, and throughput in bytes per second; null: loopback as it is. */
  conditions: { latency: number; downloadThroughput: number; uploadThroughput: number } | null;
}

/** The two surfaces the add-in bench opens: Outlook's task pane on a held message, and the portal's held list. */
export const SURFACES: Surface[] = [
  {
    name: "task pane",
    // The first seeded held message (bench/api-server.ts), open in the reading pane.
    path: `/taskpane.html?shim=1&from=news1%40sender1.example&name=Sender%201&subject=Your%20parcel%201&mid=${encodeURIComponent("<bench-1@sender1.example>")}`,
    viewport: { width: 320, height: 900 },
    interactive: {
      present: [
        '[data-testid="verdict"], [data-testid="not-scanned"]',
        '[data-testid="block-sender"]:not([disabled])',
      ],
      absent: [],
    },
  },
  {
    name: "portal, held list",
    path: "/portal#held",
    viewport: { width: 1280, height: 900 },
    interactive: { present: ['[data-testid="held-row"]'], absent: [".fui-Spinner"] },
  },
];

/** Loopback, and an emulated office link. */
export const NETWORKS: NetworkProfile[] = [
  { name: "loopback", conditions: null },
  // A person at home or in a branch office on a VPN: 40 ms round trip, 20 Mbit/s down, 5 up.
  {
    name: "office link (40 ms, 20 Mbit/s)",
    conditions: { latency: 40, downloadThroughput: 2_500_000, uploadThroughput: 625_000 },
  },
];

/** One page load's figures. */
export interface LoadFigures {
  /** From the navigation's start to the moment `interactive` first held, ms (the page's own clock). */
  interactiveMs: number;
  /** Bytes that crossed the network for the page and everything it loaded (headers included; cache hits 0). */
  transferredBytes: number;
  /** The Content-Encoding the initial script came with ("identity" when none). */
  scriptEncoding: string;
}

/** Debian's Chromium, headless, as the browser tests launch it (never a downloaded browser). */
export function launchBenchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    timeout: 120_000,
  });
}

/**
 * A fresh context (empty cache, signed in with `sessionToken`) that reaches only Mailward: office.js from Microsoft's
 * CDN and every other origin are aborted (no internet here; the shim stands in for Outlook). `identity` makes the
 * browser ask for files uncompressed (Accept-Encoding: identity), as a server without compression would send them.
 */
export async function benchContext(
  browser: Browser,
  baseUrl: string,
  sessionToken: string,
  options: { viewport: Surface["viewport"]; identity: boolean },
): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: options.viewport,
    baseURL: baseUrl,
    reducedMotion: "reduce",
    ...(options.identity ? { extraHTTPHeaders: { "Accept-Encoding": "identity" } } : {}),
  });
  await context.addCookies([{ name: SESSION_COOKIE, value: sessionToken, url: baseUrl }]);
  const origin = new URL(baseUrl).origin;
  await context.route(
    (url) => url.origin !== origin,
    (route) => route.abort("blockedbyclient"),
  );
  return context;
}

/**
 * Opens `surface` in `page` over `network` (`again`: reloads the page it shows, with the browser's cache as the first
 * opening left it) and measures it until a person can act. A reload, not a second visit of the same address: for an
 * address with a fragment (/portal#held) that would move within the page already open, not open it anew.
 */
export async function measureLoad(
  page: Page,
  surface: Surface,
  network: NetworkProfile,
  again = false,
): Promise<LoadFigures> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  if (network.conditions)
    await cdp.send("Network.emulateNetworkConditions", { offline: false, ...network.conditions });
  let scriptEncoding = "";
  const onResponse = async (response: Response) => {
    if (scriptEncoding === "" && /\/taskpane\.[0-9a-f]{8}\.js$/.test(response.url()))
      scriptEncoding = (await response.headerValue("content-encoding")) ?? "identity";
  };
  page.on("response", onResponse);
  try {
    if (again) await page.reload({ waitUntil: "commit", timeout: 120_000 });
    else await page.goto(surface.path, { waitUntil: "commit", timeout: 120_000 });
    const handle = await page.waitForFunction(
      ({ present, absent }) =>
        present.every((selector) => document.querySelector(selector) !== null) &&
        absent.every((selector) => document.querySelector(selector) === null) &&
        performance.now(),
      surface.interactive,
      { polling: 5, timeout: 120_000 },
    );
    const interactiveMs = (await handle.jsonValue()) as number;
    const transferredBytes = await page.evaluate(() =>
      performance
        .getEntries()
        .filter((entry): entry is PerformanceResourceTiming => "transferSize" in entry)
        .reduce((sum, entry) => sum + entry.transferSize, 0),
    );
    return { interactiveMs, transferredBytes, scriptEncoding: scriptEncoding || "cached" };
  } finally {
    page.off("response", onResponse);
    await cdp.detach();
  }
}
