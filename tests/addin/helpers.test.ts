import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it, vi } from "vitest";
import type { HeldItem } from "../../shared/schemas/held";
import { detectHost } from "../../addin/auth/host";
import { isOpenHold, signalText, signedPoints } from "../../addin/taskpane/components/format";
import { likelyFirstView } from "../../addin/taskpane/view-loaders";
import { apiScopeFor, signInAuthority } from "../../addin/auth/config";
import { parseAuthDialogMessage } from "../../addin/auth/dialog";
import { parseConfirmation } from "../../addin/commands/confirm";
import { parseAuthenticationResults } from "../../addin/office/authResults";
import {
  buildArchiveQuery,
  highlightTerms,
  splitHighlights,
} from "../../addin/taskpane/views/archive/archiveQuery";
import { parseRecipients } from "../../addin/taskpane/views/archive/ArchiveMessageView";
import { allowedActions, commonActions } from "../../addin/taskpane/views/held/heldActions";
import { normalizeSenderPattern } from "../../addin/taskpane/views/senders/SendersView";
import { luminance } from "../../addin/taskpane/theme";
import { versionAtMost } from "../../addin/testing/office-shim";
import { PLACEHOLDER_CLIENT_ID, rewriteManifest } from "../../scripts/manifest-rewrite";

const held = (overrides: Partial<HeldItem>): HeldItem => ({
  id: "6f1c1d4e-7d1a-4a57-9a43-0b4b9c1e2f3a",
  from: "a@b.example",
  to: "me@mailward.test",
  subject: "s",
  receivedAt: "2025-01-01T00:00:00.000Z",
  reason: "spam",
  status: "held",
  expiresAt: "2025-01-15T00:00:00.000Z",
  score: 5,
  ...overrides,
});

describe("rewriteManifest (build-time URL rewrite)", () => {
  const manifest = readFileSync(resolve(import.meta.dirname, "../../manifest.xml"), "utf8");

  it("rewrites every dev URL and the api:// resource to MAILWARD_PUBLIC_URL, and sets the client id", () => {
    const clientId = "11111111-2222-4333-8444-555555555555";
    const out = rewriteManifest(manifest, { publicUrl: "https://mail.contoso.example/mw/", clientId });
    expect(out.replace(/<!--[\s\S]*?-->/g, "")).not.toContain("localhost");
    expect(out).not.toContain(PLACEHOLDER_CLIENT_ID);
    expect(out).toContain('DefaultValue="https://mail.contoso.example/mw/taskpane.html"');
    expect(out).toContain(`<Resource>api://mail.contoso.example/${clientId}</Resource>`);
    expect(out).toContain(`<Id>${clientId}</Id>`);
  });

  it("leaves the manifest alone without settings, and refuses http or a non-GUID client id", () => {
    expect(rewriteManifest(manifest, {})).toBe(manifest);
    expect(() => rewriteManifest(manifest, { publicUrl: "http://mail.example" })).toThrow("must be https");
    expect(() => rewriteManifest(manifest, { clientId: "not-a-guid" })).toThrow("GUID");
  });
});

describe("held actions", () => {
  const agent = ["held.read_own", "held.act_own"] as const;
  it("offers release for spam but only request-release for phish without approve rights", () => {
    expect(allowedActions(held({ reason: "spam" }), agent)).toContain("release");
    expect(allowedActions(held({ reason: "phish" }), agent)).toEqual(["request-release", "block", "delete"]);
    expect(allowedActions(held({ reason: "phish" }), [...agent, "held.approve_release"])).toContain(
      "release",
    );
    expect(allowedActions(held({ status: "released" }), agent)).toEqual([]);
    expect(allowedActions(held({}), ["held.read_own"])).toEqual([]);
  });

  it("offers only request-release for the organisation's block, and never a personal permit over it", () => {
    const org = held({ reason: "blocked_sender", orgBlock: true });
    expect(allowedActions(org, agent)).toEqual(["request-release", "block", "delete"]);
    expect(allowedActions(org, [...agent, "held.approve_release"])).toEqual(["release", "block", "delete"]);
    expect(allowedActions(held({ reason: "blocked_sender" }), agent)).toContain("release");
  });

  it("follows the server's actions list when present, and bulk offers only what all allow", () => {
    expect(allowedActions(held({ actions: ["delete"] }), agent)).toEqual(["delete"]);
    expect(commonActions([held({ reason: "spam" }), held({ reason: "phish" })], agent)).toEqual([
      "block",
      "delete",
    ]);
    expect(commonActions([], agent)).toEqual([]);
  });
});

describe("archive search helpers", () => {
  it("puts date filters into the query language", () => {
    expect(buildArchiveQuery(' "wire transfer" ', "2025-01-01", "")).toBe('"wire transfer" after:2025-01-01');
    expect(buildArchiveQuery("", "", "2025-02-01")).toBe("before:2025-02-01");
    expect(buildArchiveQuery("x", "garbage", "")).toBe("x");
  });

  it("highlights words and phrases, not operators or exclusions", () => {
    expect(highlightTerms('"wire transfer" -newsletter OR invoice from:bank.example has:attachment')).toEqual(
      ["wire transfer", "invoice", "bank.example"],
    );
    expect(splitHighlights("Please send the Wire Transfer now", ["wire transfer"])).toEqual([
      { text: "Please send the ", match: false },
      { text: "Wire Transfer", match: true },
      { text: " now", match: false },
    ]);
    expect(splitHighlights("a (b) c", ["(b)"])[1]).toEqual({ text: "(b)", match: true });
  });

  it("parses forward recipients", () => {
    expect(parseRecipients("a@b.example, c@d.example;e@f.example")).toHaveLength(3);
    expect(parseRecipients("a@b.example, nope")).toBeNull();
    expect(parseRecipients("")).toBeNull();
  });
});

describe("sender pattern normalisation", () => {
  it.each([
    [" Bob@Example.COM ", "bob@example.com"],
    ["@example.com", "example.com"],
    ["*.Example.com", "*.example.com"],
    ["bücher.de", "xn--bcher-kva.de"],
    ["a@bücher.de", "a@xn--bcher-kva.de"],
    ["not a domain", null],
    ["*.com", null],
    ["bob*@example.com", null],
    ["", null],
  ])("%j → %j", (input, expected) => {
    expect(normalizeSenderPattern(input)).toBe(expected);
  });
});

describe("Office helpers", () => {
  it("reads the top-most Authentication-Results header, unfolded", () => {
    const headers = [
      "Received: from x",
      "Authentication-Results: mx.mailward.test;",
      "\tspf=pass smtp.mailfrom=a.example;",
      "\tdkim=fail header.d=a.example; dmarc=fail",
      "Authentication-Results: forged.example; spf=pass; dmarc=pass",
      "Subject: hi",
    ].join("\r\n");
    expect(parseAuthenticationResults(headers)).toEqual({ spf: "pass", dkim: "fail", dmarc: "fail" });
    expect(parseAuthenticationResults("Subject: hi")).toBeNull();
  });

  it("only accepts well-formed dialog messages", () => {
    expect(parseConfirmation('{"type":"confirm","note":" hi ","block":true}')).toEqual({
      confirmed: true,
      note: "hi",
      block: true,
    });
    expect(parseConfirmation('{"type":"cancel"}')).toEqual({ confirmed: false });
    expect(parseConfirmation("not json")).toEqual({ confirmed: false });
    expect(parseAuthDialogMessage('{"type":"token","accessToken":"x","expiresAt":5}')).toEqual({
      type: "token",
      accessToken: "x",
      expiresAt: 5,
    });
    expect(parseAuthDialogMessage('{"type":"token","accessToken":5}')).toBeNull();
  });

  it("compares requirement-set versions part by part", () => {
    expect(versionAtMost("1.8", "1.14")).toBe(true);
    expect(versionAtMost("1.14", "1.8")).toBe(false);
    expect(versionAtMost("1.14", "1.14")).toBe(true);
  });

  it("runs as the portal when office.js is not loaded", async () => {
    expect(await detectHost()).toEqual({ kind: "portal" });
  });

  it("waits for a slow Outlook to be ready rather than taking itself for the portal", async () => {
    vi.useFakeTimers();
    try {
      vi.stubGlobal("Office", {
        HostType: { Outlook: "Outlook" },
        context: { mailbox: {} },
        onReady: () => new Promise((resolve) => setTimeout(() => resolve({ host: "Outlook" }), 12_000)),
      });
      const host = detectHost();
      await vi.advanceTimersByTimeAsync(12_000);
      expect(await host).toEqual({ kind: "outlook", shim: false });
      // Outside Office, onReady answers at once without a host: the portal.
      vi.stubGlobal("Office", {
        HostType: { Outlook: "Outlook" },
        onReady: () => Promise.resolve({ host: null }),
      });
      expect(await detectHost()).toEqual({ kind: "portal" });
    } finally {
      vi.unstubAllGlobals();
      vi.useRealTimers();
    }
  });

  it("derives the API scope from the public URL, and the theme from Office's background", () => {
    expect(apiScopeFor("abc", "https://mail.example:8443/x")).toBe(
      "api://mail.example:8443/abc/access_as_user",
    );
    // The server's MAILWARD_ENTRA_AUTHORITY is the cloud's host alone; the add-in signs in at its organizations path.
    expect(signInAuthority("https://login.microsoftonline.com")).toBe(
      "https://login.microsoftonline.com/organizations",
    );
    expect(signInAuthority("https://login.microsoftonline.us/")).toBe(
      "https://login.microsoftonline.us/organizations",
    );
    expect(signInAuthority("")).toBe("https://login.microsoftonline.com/organizations");
    expect(signInAuthority("https://login.microsoftonline.com/contoso.onmicrosoft.com/")).toBe(
      "https://login.microsoftonline.com/contoso.onmicrosoft.com",
    );
    expect(luminance("#ffffff")).toBeCloseTo(1);
    expect(luminance("#1f1f1f")).toBeLessThan(0.1);
    expect(luminance("nope")).toBeNull();
  });
});

describe("likelyFirstView", () => {
  it("names the view in the address, else This message in Outlook and the held list elsewhere", () => {
    expect(likelyFirstView("#archive/0b6f", false)).toBe("archive");
    expect(likelyFirstView("#senders", true)).toBe("senders");
    expect(likelyFirstView("#nonsense", true)).toBe("message");
    expect(likelyFirstView("", false)).toBe("held");
    expect(likelyFirstView("#", true)).toBe("message");
  });
});

describe("signals in plain words", () => {
  it("shows the engine's label alone (it names what it found), else the id with its detail", () => {
    const label = "A link hides its real destination after an @ sign (www.paypal.com@198.51.100.7).";
    expect(signalText({ name: "url.at_sign", score: 4, label, detail: "www.paypal.com@198.51.100.7" })).toBe(
      label,
    );
    expect(signalText({ name: "rspamd.X", score: 1, detail: "d" })).toBe("rspamd.X (d)");
    expect(signalText({ name: "rspamd.Y", score: 1 })).toBe("rspamd.Y");
  });

  it("signs a signal's points as a person reads them", () => {
    expect(signedPoints(6)).toBe("+6.0");
    expect(signedPoints(-3)).toBe("\u22123.0");
    expect(signedPoints(0)).toBe("0.0");
    expect(signedPoints(-0.01)).toBe("0.0");
  });

  it("counts a hold waiting on a release request as open (it still expires)", () => {
    expect(["held", "release_requested", "released", "deleted", "expired"].map(isOpenHold)).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
