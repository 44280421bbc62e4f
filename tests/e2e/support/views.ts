import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { UI_TIMEOUT_MS } from "./browser";

/** The test output folder for screenshots (test-results/ is git-ignored). */
export const SCREENSHOT_DIR = path.resolve(__dirname, "../../../test-results/screenshots");

/** Saves a full-page screenshot as test-results/screenshots/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: "disabled" });
  return file;
}

/**
 * Waits until the view shows `ready` and nothing is loading any more. An error state instead fails at once
 * with the API's error id (a view stuck on an error is not a view to scan).
 */
export async function waitForView(page: Page, ready: string): Promise<void> {
  const error = page.getByTestId("error-state");
  await page.locator(`${ready}, [data-testid="error-state"]`).first().waitFor({ timeout: UI_TIMEOUT_MS });
  if (await error.count()) {
    const id = await error.first().getAttribute("data-error-id");
    const text = await error.first().innerText();
    throw new Error(`the view shows an error (${id ?? "?"}): ${text}`);
  }
  await page.waitForFunction(() => document.querySelector(".fui-Spinner") === null, undefined, {
    timeout: UI_TIMEOUT_MS,
  });
}

/** Clicks a view's tab in the task pane / portal navigation and waits for its tab to be selected. */
export async function openTab(
  page: Page,
  view: "message" | "held" | "review" | "archive" | "senders" | "settings",
): Promise<void> {
  const tab = page.getByTestId(`nav-${view}`);
  await tab.click();
  await page.waitForFunction(
    (id) => document.querySelector(`[data-testid="${id}"]`)?.getAttribute("aria-selected") === "true",
    `nav-${view}`,
    { timeout: UI_TIMEOUT_MS },
  );
}
