import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

/** Generous waits: the suite must survive a heavily loaded 2-core machine (conditions, never sleeps). */
export const UI_TIMEOUT_MS = 60_000;

/**
 * Debian's Chromium, headless, without the background traffic of a desktop browser; with `proxy`, every request
 * to a host not in its bypass list goes to that proxy (a recorder, to see what a page fetched).
 */
export function launchChromium(
  options: { proxy?: { server: string; bypass: string } } = {},
): Promise<Browser> {
  return chromium.launch({
    ...(options.proxy ? { proxy: options.proxy } : {}),
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-dev-shm-usage",
    ],
    timeout: 120_000,
  });
}

/** A browser context for one Mailward server, with what it tried to load elsewhere. */
export interface MailwardContext {
  context: BrowserContext;
  /** Requests to other origins (aborted), e.g. office.js from Microsoft's CDN. */
  offOrigin: string[];
}

/**
 * A fresh context (own cookies and storage) at the given viewport. Only the server's own origin is reachable:
 * office.js from Microsoft's CDN and anything else is aborted, as the add-in docs ask for offline runs.
 */
export async function newMailwardContext(
  browser: Browser,
  baseUrl: string,
  viewport: { width: number; height: number },
): Promise<MailwardContext> {
  const context = await browser.newContext({ viewport, baseURL: baseUrl, reducedMotion: "reduce" });
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(UI_TIMEOUT_MS);
  const offOrigin: string[] = [];
  const origin = new URL(baseUrl).origin;
  await context.route(
    (url) => url.origin !== origin,
    (route) => {
      offOrigin.push(route.request().url());
      return route.abort("blockedbyclient");
    },
  );
  return { context, offOrigin };
}

/** Signs the context in with a local account through POST /api/auth/login (the cookies land in the context). */
export async function signInContext(
  context: BrowserContext,
  email: string,
  password: string,
  totp?: string,
): Promise<void> {
  const res = await context.request.post("/api/auth/login", {
    data: { email, password, ...(totp ? { totp } : {}) },
  });
  if (res.status() !== 200)
    throw new Error(`sign-in of ${email} failed: ${res.status()} ${await res.text()}`);
}

/** Calls the API with the context's session, sending the CSRF cookie back as the header (like the add-in). */
export async function contextApi(
  context: BrowserContext,
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const cookies = await context.cookies();
  const csrf = cookies.find((cookie) => cookie.name === "mw_csrf")?.value;
  const res = await context.request.fetch(path, {
    method,
    headers: csrf && method !== "GET" ? { "x-csrf-token": csrf } : {},
    ...(body === undefined ? {} : { data: body }),
  });
  const text = await res.text();
  return { status: res.status(), json: text ? (JSON.parse(text) as unknown) : null };
}

/** A page with its uncaught script errors recorded (the views must not throw). */
export async function newTrackedPage(context: BrowserContext): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  return { page, errors };
}

/** Query parameters the test Office shim understands (addin/testing/office-shim.ts). */
export interface ShimItem {
  from?: string;
  name?: string;
  subject?: string;
  mid?: string;
  itemId?: string;
  auth?: string;
  theme?: "dark" | "light";
}

/** The task pane URL with the Office shim playing one message. */
export function taskpaneUrl(item: ShimItem = {}, view?: string): string {
  const params = new URLSearchParams({ shim: "1" });
  for (const [key, value] of Object.entries(item)) if (value !== undefined) params.set(key, value);
  return `/taskpane.html?${params.toString()}${view ? `#${view}` : ""}`;
}
