import { formatSender } from "../../presenters/held";
import type { LinkPageState } from "../../commands/digest/follow-link";
import { escapeHtml } from "./outbound";
import type { LinkAction } from "./links";

/** An HTML page and the status it is served with. */
export interface LinkPage {
  status: number;
  html: string;
}

const VERB: Record<LinkAction, { button: string; done: string }> = {
  release: { button: "Release this message", done: "Released. The message is on its way to your inbox." },
  "release-and-permit": {
    button: "Release and always allow this sender",
    done: "Released, and this sender is now allowed (the permit expires after 120 days).",
  },
  block: {
    button: "Block this sender",
    done: "Blocked. The message was deleted and mail from this sender will be held for you.",
  },
  "request-release": {
    button: "Ask security to release it",
    done: "Requested. Your security team will review the message and let you know.",
  },
};

function layout(title: string, body: string): string {
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)} - Mailward</title>`,
    "<style>body{font-family:Segoe UI,Arial,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#242424}",
    "h1{font-size:1.4rem}.box{border:1px solid #d1d1d1;border-radius:6px;padding:1rem}.phrase{border:2px solid #0f6cbd;background:#ebf3fc;padding:.5rem}",
    "button{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#0f6cbd;color:#fff;cursor:pointer}</style>",
    `</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
  ].join("");
}

function itemBox(subject: string, fromName: string, fromAddress: string): string {
  return `<div class="box"><strong>${escapeHtml(subject || "(no subject)")}</strong><br>From: ${escapeHtml(formatSender(fromName, fromAddress))}</div>`;
}

const OUTCOME_WORDS: Record<string, string> = {
  "done:release": "the message was released",
  "done:release-and-permit": "the message was released and its sender allowed",
  "done:block": "the sender was blocked",
  "done:request-release": "a release was requested",
};

/** Renders what a digest link shows: always a page a person can read, never an error JSON. */
export function renderLinkPage(state: LinkPageState, token: string): LinkPage {
  switch (state.page) {
    case "invalid":
      return {
        status: 400,
        html: layout(
          "This link is not valid",
          "<p>The link is incomplete or has been changed. Open the digest again and use the link exactly as it is, or sign in to Mailward to see your held messages.</p>",
        ),
      };
    case "expired":
      return {
        status: 410,
        html: layout(
          "This link has expired",
          "<p>Digest links work for 72 hours, and only while the message is still held. Sign in to Mailward to see what is held for you now.</p>",
        ),
      };
    case "used": {
      const what = state.outcome
        ? (OUTCOME_WORDS[state.outcome] ?? "it was refused")
        : "it is being processed";
      return {
        status: 410,
        html: layout(
          "This link was already used",
          `<p>Each digest link works only once. When it was used, ${escapeHtml(what)}. Sign in to Mailward to see the message's status.</p>`,
        ),
      };
    }
    case "handled":
      return {
        status: 409,
        html: layout(
          "Already handled",
          `${itemBox(state.item.subject, state.item.from_name, state.item.from_address)}<p>This message was already ${escapeHtml(state.item.status)}. Nothing more to do.</p>`,
        ),
      };
    case "confirm": {
      const phrase = state.phrase
        ? `<p class="phrase">Your security phrase: <strong>${escapeHtml(state.phrase)}</strong></p>`
        : "<p>Tip: set a security phrase in Mailward's settings so you can recognise real digests.</p>";
      const verb = VERB[state.link.action];
      return {
        status: 200,
        html: layout(
          "Confirm",
          `${phrase}${itemBox(state.item.subject, state.item.from_name, state.item.from_address)}<form method="post" action="/d/${escapeHtml(token)}"><p><button type="submit">${escapeHtml(verb.button)}</button></p></form><p>This link works once.</p>`,
        ),
      };
    }
    case "done":
      return {
        status: 200,
        html: layout(
          "Done",
          `${itemBox(state.item.subject, state.item.from_name, state.item.from_address)}<p>${escapeHtml(VERB[state.link.action].done)}</p>`,
        ),
      };
    case "refused": {
      const message =
        state.error === "expired"
          ? "This message is no longer held: its time in quarantine has run out."
          : state.error === "conflict"
            ? "This message was already handled."
            : state.message;
      return {
        status: state.error === "expired" ? 410 : 409,
        html: layout("This could not be done", `<p>${escapeHtml(message)}</p>`),
      };
    }
    case "failed":
      return {
        status: 503,
        html: layout(
          "Please try again",
          "<p>Something went wrong on our side. The link has not been used; try again in a minute.</p>",
        ),
      };
  }
}
