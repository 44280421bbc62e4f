import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { QueryClientProvider } from "@tanstack/react-query";
import { act, type ReactNode } from "react";
import { createRoot, type Root } from "react-dom/client";
import { permissionsFor } from "../../../shared/permissions";
import type { z } from "zod";
import type { HeldItem } from "../../../shared/schemas/held";
import type { Me } from "../../../shared/schemas/me";
import type { queueSummary } from "../../../shared/schemas/queue";
import type { graphStatus } from "../../../shared/schemas/graph";
import { createMailwardApi, type MailwardApi } from "../../../addin/api/endpoints";
import { createHttpClient } from "../../../addin/api/http";
import { createCookieAuth } from "../../../addin/auth/strategies";
import { createQueryClient } from "../../../addin/taskpane/queryClient";
import { AppContextProvider } from "../../../addin/taskpane/context";
import { App } from "../../../addin/taskpane/App";

(globalThis as unknown as { IS_REACT_ACT_ENVIRONMENT: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** A signed-in agent, as GET /api/me would answer. */
export const AGENT: Me = {
  id: "0d6b5f0e-3c1a-4e0b-9a51-3f7c2d1e4b5a",
  email: "agent@mailward.test",
  displayName: "Agent Smith",
  roles: ["agent"],
  permissions: ["held.read_own", "held.act_own", "senders.manage_own", "reports.create", "archive.read_own"],
  othersReach: null,
};

/** A message held for AGENT, as GET /api/held lists it. */
export const HELD_FOR_AGENT: HeldItem = {
  id: "00000000-0000-4000-8000-000000000001",
  from: "Sender <sender@outside.example>",
  to: AGENT.email,
  subject: "Order 4711",
  receivedAt: "2026-11-29T08:00:00.000Z",
  reason: "spam",
  status: "held",
  expiresAt: "2099-12-13T08:00:00.000Z",
  score: 7,
  actions: ["release"],
};

/** A signed-in security admin (release requests, reported messages, message trace). */
export const SECURITY_ADMIN: Me = {
  id: "7a1c2e3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d",
  email: "sec@mailward.test",
  displayName: "Sec Admin",
  roles: ["security_admin"],
  permissions: permissionsFor(["security_admin"]),
  othersReach: "organisation",
};

/** The element with this data-testid inside `container`, or null. */
export function byTestId(container: HTMLElement, id: string): Element | null {
  return container.querySelector(`[data-testid="${id}"]`);
}

/** A mounted tree and how to take it down. */
export interface Mounted {
  container: HTMLElement;
  unmount(): Promise<void>;
}

/** An API client over a fake fetch, in cookie mode with a CSRF cookie, as the portal uses it. */
export function apiOver(fetchImpl: typeof fetch): MailwardApi {
  return createMailwardApi(
    createHttpClient({ baseUrl: "", auth: createCookieAuth(() => "mw_csrf=csrf-123"), fetch: fetchImpl }),
  );
}

/** Trees still mounted: the add-in project's setup takes them all down after each test (unmountAll). */
const mountedTrees = new Set<Mounted>();

/** Takes down every tree a test left mounted (tests/addin/support/setup.ts runs it after each test). */
export async function unmountAll(): Promise<void> {
  for (const tree of [...mountedTrees]) await tree.unmount();
}

/** Mounts `tree` in a fresh container; it is taken down after the test (or earlier by its own `unmount`). */
export async function mountTree(tree: ReactNode): Promise<Mounted> {
  const container = document.createElement("div");
  document.body.appendChild(container);
  let root: Root | null = null;
  await act(async () => {
    root = createRoot(container);
    root.render(tree);
  });
  const mounted: Mounted = {
    container,
    async unmount() {
      if (!mountedTrees.delete(mounted)) return;
      await act(async () => root?.unmount());
      container.remove();
    },
  };
  mountedTrees.add(mounted);
  return mounted;
}

/**
 * Renders `ui` inside the app's providers (theme, query cache, app context). The tree is taken down after the test
 * (or earlier by its own `unmount`, which a second call leaves alone).
 */
export async function renderWithApp(ui: ReactNode, api: MailwardApi, me: Me = AGENT): Promise<Mounted> {
  return mountTree(
    <FluentProvider theme={webLightTheme}>
      <QueryClientProvider client={createQueryClient()}>
        <AppContextProvider value={{ api, host: { kind: "portal" }, me }}>{ui}</AppContextProvider>
      </QueryClientProvider>
    </FluentProvider>,
  );
}

/** Renders the whole app as the portal starts it (its own query client, sign-in gate, shell and views). */
export async function renderPortal(api: MailwardApi): Promise<Mounted> {
  return mountTree(<App api={api} host={{ kind: "portal" }} authMode="cookie" />);
}

/** Waits (letting React and promises run) until `check` returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | null | undefined | false, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("waitFor: condition not met in time");
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
  }
}

/** Types into a React-controlled input or textarea. */
export async function typeInto(element: Element | null, value: string): Promise<void> {
  if (!(element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement)) {
    throw new Error("typeInto: not an input");
  }
  const prototype =
    element instanceof HTMLInputElement ? HTMLInputElement.prototype : HTMLTextAreaElement.prototype;
  await act(async () => {
    Object.getOwnPropertyDescriptor(prototype, "value")?.set?.call(element, value);
    element.dispatchEvent(new Event("input", { bubbles: true }));
  });
}

/** Chooses an option of a React-controlled select. */
export async function selectOption(element: Element | null, value: string): Promise<void> {
  if (!(element instanceof HTMLSelectElement)) throw new Error("selectOption: not a select");
  await act(async () => {
    Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, "value")?.set?.call(element, value);
    element.dispatchEvent(new Event("change", { bubbles: true }));
  });
}

/** Clicks an element. */
export async function click(element: Element | null): Promise<void> {
  if (!(element instanceof HTMLElement)) throw new Error("click: no element");
  await act(async () => {
    element.click();
  });
}

/** A JSON response. */
export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** A fake API's answer for a path it does not serve, as the server words it. */
export function routeNotFound(): Response {
  return json(404, { error: "route_not_found", message: "There is no such API route." });
}

/** A fake API's DELETE of one item of an in-memory list by id: 204, or 404 when it is not there. */
export function deleteById<T extends { id: string }>(items: T[], id: string | undefined): Response {
  const index = items.findIndex((item) => item.id === id);
  if (index === -1) return json(404, { error: "not_found", message: "Not found." });
  items.splice(index, 1);
  return new Response(null, { status: 204 });
}

/** GET /api/admin/queue with nothing waiting for the next hop: what fake APIs of Review answer by default. */
export const EMPTY_QUEUE: z.infer<typeof queueSummary> = {
  nextHop: "contoso-com.mail.protection.outlook.com:25",
  queued: 0,
  sending: 0,
  deferred: 0,
  oldestWaitingSince: null,
  nextRetryAt: null,
  errors: [],
};

/** GET /api/admin/graph of a server without Graph: what fake APIs of Review answer by default (no directory sync). */
export const GRAPH_OFF: z.infer<typeof graphStatus> = {
  mode: "gateway",
  configured: false,
  notificationUrl: null,
  mailboxes: [],
  backlog: { notifications: 0, actions: 0, failedActions: 0 },
  directory: { sync: false, lastRound: null, groups: [] },
};
