import http from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPreviewDocument, buildPreviewIframe, sanitizeEmailHtml } from "../../server/preview";
import { fillPayload, XSS_PAYLOADS } from "../server/preview/xss-payloads";

/**
 * The safe preview in a real Chromium: every hostile payload, sanitized and framed exactly as the product
 * does it, must run no script (no flag set in its frame, no dialog, nothing on window.top) and send no
 * request. Network observation does not rely on Playwright's request events (they do not report
 * subresources of sandboxed srcdoc frames): the attacker server is also the browser's proxy, so every
 * non-loopback request reaches it (as a request or a CONNECT), payload URLs point at it directly, and
 * the page server records anything but the page itself (relative URLs resolve to it). A control frame
 * with a raw payload and `sandbox="allow-scripts allow-modals"`, and one with raw remote images, prove
 * each detector sees execution and leaks.
 */

interface Listener {
  server: http.Server;
  origin: string;
}

async function listen(handler: http.RequestListener): Promise<Listener> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}

async function close(listener: Listener | undefined): Promise<void> {
  if (!listener) return;
  listener.server.closeAllConnections();
  await new Promise<void>((resolve) => listener.server.close(() => resolve()));
}

/**
 * The browser's own update/telemetry services (not page traffic) that may still go through the proxy
 * despite the flags; any other host is counted.
 */
const BROWSER_SERVICE_HOST = /(?:^|\.)(?:googleapis|gvt1|gvt2|google|gstatic)\.com(?::\d+)?$/;

function isBrowserService(target: string): boolean {
  try {
    return BROWSER_SERVICE_HOST.test(new URL(target.includes("://") ? target : `https://${target}`).host);
  } catch {
    return false;
  }
}

/** Everything that reached the attacker: HTTP requests, proxy CONNECTs and non-HTTP (TLS) traffic. */
const attacker = { requests: [] as string[], connects: [] as string[], nonHttp: 0 };
/** Requests the page server got for anything but the page under test. */
const strayToSite: string[] = [];
let attackerServer: Listener | undefined;
let site: Listener | undefined;
let browser: Browser | undefined;

function previewPage(allowRemoteImages: boolean): string {
  const frames = XSS_PAYLOADS.map((payload, index) => {
    const hostile = fillPayload(payload.html, `${attackerServer?.origin ?? ""}/hit/${index}`);
    const sanitized = sanitizeEmailHtml(hostile, { allowRemoteImages });
    return buildPreviewIframe(buildPreviewDocument(sanitized, { allowRemoteImages }), payload.name);
  });
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>preview</title></head><body>${frames.join("\n")}</body></html>`;
}

function controlPage(): string {
  const escape = (html: string): string => html.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
  const raw = fillPayload("<img src=x onerror=PWN>", `${attackerServer?.origin ?? ""}/hit/control`);
  const leak = `<img src="${attackerServer?.origin ?? ""}/hit/control-img"><img src="http://leak.example/x.png">`;
  return `<!DOCTYPE html><html><body><iframe sandbox="allow-scripts allow-modals" srcdoc="${escape(raw)}"></iframe><iframe sandbox srcdoc="${escape(leak)}"></iframe></body></html>`;
}

const PAGES: Record<string, () => string> = {
  "/blocked": () => previewPage(false),
  "/allowed": () => previewPage(true),
  "/control": controlPage,
};

beforeAll(async () => {
  attackerServer = await listen((req, res) => {
    if (!isBrowserService(req.url ?? "")) attacker.requests.push(`${req.method ?? "?"} ${req.url ?? ""}`);
    res.writeHead(200, { "Access-Control-Allow-Origin": "*", "Content-Type": "text/plain" }).end("hit");
  });
  // Bytes that are not HTTP (a TLS handshake from an https fetch aimed at this plain-HTTP server).
  attackerServer.server.on("clientError", (_error: Error, socket: import("node:stream").Duplex) => {
    attacker.nonHttp++;
    socket.destroy();
  });
  attackerServer.server.on("connect", (req: http.IncomingMessage, socket: import("node:stream").Duplex) => {
    if (!isBrowserService(req.url ?? "")) attacker.connects.push(req.url ?? "");
    socket.destroy();
  });
  site = await listen((req, res) => {
    const page = PAGES[req.url ?? ""];
    if (!page) {
      strayToSite.push(`${req.method ?? "?"} ${req.url ?? ""}`);
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(page());
  });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      // Sandboxed frames share their parent's renderer process, as in Chromium before sandboxed-frame isolation: the
      // 172 opaque-origin frames of a page each started a process, and loading the page took 17-20 s instead of 7-8.
      // Whether a script runs or a request leaves is decided by the sandbox attribute, the CSP and the sanitizer in
      // Blink either way; the process a frame renders in is not what this test is about.
      "--disable-features=IsolateSandboxedIframes",
    ],
    // Every non-loopback request goes to the attacker; loopback (page server, attacker itself) is direct.
    proxy: { server: attackerServer.origin, bypass: "127.0.0.1" },
  });
});

afterAll(async () => {
  await browser?.close();
  await close(site);
  await close(attackerServer);
});

interface Observation {
  dialogs: string[];
  framesRan: number;
  frameCount: number;
  /** Frames whose document carries our CSP meta: proves the probe reads the preview documents. */
  framesWithCsp: number;
  topPwned: unknown;
  attackerRequests: string[];
  attackerConnects: string[];
  attackerNonHttp: number;
  strayToSite: string[];
}

/**
 * Open a page, move the mouse over every frame (mouse-driven handlers), wait, and collect what happened. The frames'
 * centres are read in one call, not one call a frame.
 */
async function observe(path: string): Promise<Observation> {
  if (!browser || !site) throw new Error("not started");
  const start = {
    requests: attacker.requests.length,
    connects: attacker.connects.length,
    nonHttp: attacker.nonHttp,
    stray: strayToSite.length,
  };
  const context = await browser.newContext({ viewport: { width: 1600, height: 6000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(150_000);
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(`${site.origin}${path}`, { waitUntil: "load", timeout: 150_000 });
  const centres = await page.locator("iframe").evaluateAll((frames) =>
    frames.map((frame) => {
      const box = frame.getBoundingClientRect();
      return { x: box.x + box.width / 2, y: box.y + box.height / 2, shown: box.width > 0 && box.height > 0 };
    }),
  );
  // One move into each frame: its document gets mouseover, mouseenter and mousemove (two steps a frame took twice as
  // long and fired nothing more).
  for (const centre of centres) if (centre.shown) await page.mouse.move(centre.x, centre.y);
  await page.waitForTimeout(1_000);
  let framesRan = 0;
  let framesWithCsp = 0;
  const children = page.frames().filter((frame) => frame !== page.mainFrame());
  for (const frame of children) {
    const probe = await frame.evaluate(() => ({
      ran: (window as unknown as { __mwran?: number }).__mwran,
      csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]') !== null,
    }));
    if (probe.ran !== undefined) framesRan++;
    if (probe.csp) framesWithCsp++;
  }
  const topPwned = await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned);
  await context.close();
  return {
    dialogs,
    framesRan,
    frameCount: children.length,
    framesWithCsp,
    topPwned,
    attackerRequests: attacker.requests.slice(start.requests),
    attackerConnects: attacker.connects.slice(start.connects),
    attackerNonHttp: attacker.nonHttp - start.nonHttp,
    strayToSite: strayToSite.slice(start.stray),
  };
}

/** 172 frames on 2 shared cores: loading can take a while when other suites run. */
const SLOW = { timeout: 240_000 };

describe("safe preview in Chromium", () => {
  it("the detectors see a raw payload run in a scripts-allowed frame (control)", SLOW, async () => {
    const seen = await observe("/control");
    expect(seen.framesRan).toBe(1);
    expect(seen.framesWithCsp).toBe(0);
    expect(seen.dialogs).toEqual(["1"]);
    expect(seen.attackerRequests).toContain("GET /hit/control/js");
    expect(seen.strayToSite).toContain("GET /x");
    // Without sanitizer and CSP, a script-less sandboxed frame still leaks: direct and through the proxy.
    expect(seen.attackerRequests).toContain("GET /hit/control-img");
    expect(seen.attackerRequests).toContain("GET http://leak.example/x.png");
  });

  it(
    `runs no script and sends no request for ${XSS_PAYLOADS.length} sanitized payloads (images blocked)`,
    SLOW,
    async () => {
      const seen = await observe("/blocked");
      expect(seen.frameCount).toBe(XSS_PAYLOADS.length);
      expect(seen.framesWithCsp).toBe(XSS_PAYLOADS.length);
      expect(seen.framesRan).toBe(0);
      expect(seen.dialogs).toEqual([]);
      expect(seen.topPwned).toBeUndefined();
      expect(seen.attackerRequests).toEqual([]);
      expect(seen.attackerConnects).toEqual([]);
      expect(seen.attackerNonHttp).toBe(0);
      expect(seen.strayToSite).toEqual([]);
    },
  );

  it("runs no script with remote images allowed; images are fetched over https only", SLOW, async () => {
    const seen = await observe("/allowed");
    expect(seen.frameCount).toBe(XSS_PAYLOADS.length);
    expect(seen.framesWithCsp).toBe(XSS_PAYLOADS.length);
    expect(seen.framesRan).toBe(0);
    expect(seen.dialogs).toEqual([]);
    expect(seen.topPwned).toBeUndefined();
    // https image fetches reach the plain-HTTP attacker as TLS handshakes, never as plain requests.
    expect(seen.attackerNonHttp).toBeGreaterThan(0);
    expect(seen.attackerRequests).toEqual([]);
    expect(seen.strayToSite).toEqual([]);
  });
});
