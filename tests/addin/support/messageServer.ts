import { vi } from "vitest";
import type { SenderRule } from "../../../shared/schemas/senders";
import { deleteById, json, routeNotFound } from "./render";

/** The archive id the fake server gives every delivered message. */
export const ARCHIVE_ID = "3a0e8f4c-9b1d-4c2e-8f3a-7b6c5d4e3f2a";
/** The id of the one report the fake server takes. */
export const REPORT_ID = "1b8b2d4e-0c2a-4f3e-8d9c-5a6b7c8d9e0f";
/** The sender of the message the tests open (the Office shim's `from`, as Mailward normalises it). */
export const SENDER = "sender@example.net";
/** The id of the sender rule a Block (or a phish report with "Also block") makes. */
export const RULE_ID = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";

/** A second message the person selects while the pane is pinned: Mailward held it. */
export const HELD_MESSAGE = {
  from: "ceo@examp1e.net",
  name: "The CEO",
  subject: "Gift cards",
  mid: "<m2@examp1e.net>",
  itemId: "AAMkAGShim/Item+2=",
  auth: "spf=fail smtp.mailfrom=examp1e.net; dmarc=fail",
};

/** How the fake server behaves beyond its defaults. */
export interface MessageServerOptions {
  /** Whether Mailward saw the message (archive lookup answers a verdict, or 404). */
  scanned: boolean;
  /** How long a report may be undone (the server's 10 minutes; tests shorten it). */
  undoWindowMs?: number;
  /** Refuse new sender rules with a 503, as a busy server does. */
  senderChangesFail?: boolean;
  /** Refuse reports with a 503, as a busy server does. */
  reportsFail?: boolean;
  /** Sender rules the person already has. */
  rules?: SenderRule[];
}

/** A request the fake server received. */
export interface ReceivedRequest {
  method: string;
  path: string;
  body: Record<string, unknown> | undefined;
}

/** The person's own rule for `pattern`, with the id the fake server gives the rules it makes. */
export function senderRule(pattern: string, kind: SenderRule["kind"]): SenderRule {
  return { id: RULE_ID, pattern, kind, expiresAt: null, scope: "user", createdAt: new Date().toISOString() };
}

function busy(): Response {
  return json(503, { error: "service_unavailable", message: "Mailward is busy. Try again in a minute." });
}

function lookupAnswer(messageId: string | null): Record<string, unknown> {
  if (messageId === HELD_MESSAGE.mid) {
    return {
      archiveId: "5c4b3a29-1807-4f6e-9d5c-4b3a29180706",
      messageId: HELD_MESSAGE.mid,
      scannedAt: "2025-01-01T00:00:00.000Z",
      verdict: "hold",
      score: 9.1,
      reason: "phish",
      signals: [{ name: "display_name_impersonation", score: 6, label: "Poses as one of your colleagues" }],
      auth: { spf: "fail", dkim: "none", dmarc: "fail" },
      heldId: "7d6c5b4a-3928-4716-8e5d-4c3b2a190817",
    };
  }
  return {
    archiveId: ARCHIVE_ID,
    messageId,
    scannedAt: "2025-01-01T00:00:00.000Z",
    verdict: "deliver",
    score: 2.5,
    reason: null,
    signals: [{ name: "lookalike_domain", score: 2.5, label: "The domain looks like one of yours" }],
    auth: { spf: "pass", dkim: "fail", dmarc: "fail" },
    heldId: null,
  };
}

/**
 * The API "This message" talks to: the archive lookup, the person's sender rules (list, create, delete) and
 * reports (create, with "Also block"; undo, which removes the rule the report made, as the server does).
 */
export function fakeMessageServer(options: MessageServerOptions) {
  const rules: SenderRule[] = [...(options.rules ?? [])];
  const requests: ReceivedRequest[] = [];
  let reportBlockedRuleId: string | null = null;
  const fetchMock = vi.fn<typeof fetch>(async (input, init) => {
    const url = new URL(String(input), "https://mailward.test");
    const method = init?.method ?? "GET";
    const body = init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : undefined;
    requests.push({ method, path: url.pathname + url.search, body });
    if (url.pathname === "/api/archive/lookup") {
      if (!options.scanned) return json(404, { error: "not_found", message: "Not found." });
      return json(200, lookupAnswer(url.searchParams.get("messageId")));
    }
    if (url.pathname === "/api/senders" && method === "GET")
      return json(200, { items: rules, nextCursor: null });
    if (url.pathname === "/api/senders" && method === "POST") {
      if (options.senderChangesFail) {
        return json(503, {
          error: "service_unavailable",
          message: "Mailward is busy. Try again in a minute.",
        });
      }
      const rule = senderRule(String(body?.pattern), body?.kind === "permit" ? "permit" : "block");
      rules.push(rule);
      return json(201, rule);
    }
    if (url.pathname.startsWith("/api/senders/") && method === "DELETE") {
      return deleteById(rules, url.pathname.split("/").pop());
    }
    if (url.pathname === "/api/reports" && method === "POST") {
      if (options.reportsFail) return busy();
      if (body?.block === true) rules.push(senderRule(SENDER, "block"));
      reportBlockedRuleId = body?.block === true ? RULE_ID : null;
      return json(201, {
        id: REPORT_ID,
        kind: body?.kind,
        status: "received",
        createdAt: new Date().toISOString(),
        undoUntil: new Date(Date.now() + (options.undoWindowMs ?? 30_000)).toISOString(),
        messageFound: true,
        blockedRuleId: reportBlockedRuleId,
      });
    }
    if (url.pathname === `/api/reports/${REPORT_ID}` && method === "DELETE") {
      if (reportBlockedRuleId) deleteById(rules, reportBlockedRuleId);
      return new Response(null, { status: 204 });
    }
    return routeNotFound();
  });
  return { fetchMock, requests, rules };
}
