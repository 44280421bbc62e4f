import { Window } from "happy-dom";
import { describe, expect, it } from "vitest";
import {
  buildPreviewDocument,
  buildPreviewIframe,
  PREVIEW_IFRAME_SANDBOX,
  previewHeaderCsp,
  previewMetaCsp,
  previewResponseHeaders,
} from "../../../server/preview";
import { OFFICE_FRAME_ANCESTORS } from "../../../server/http/frame-ancestors";

function parse(html: string): Document {
  const window = new Window({ settings: { disableJavaScriptEvaluation: true } });
  return new window.DOMParser().parseFromString(html, "text/html") as unknown as Document;
}

describe("buildPreviewDocument", () => {
  it("puts the CSP meta first in <head>, before anything from the mail", () => {
    const doc = parse(buildPreviewDocument("<p>hello</p>"));
    const first = doc.head.firstElementChild;
    const csp = doc.head.querySelector('meta[http-equiv="Content-Security-Policy"]');
    expect(first?.getAttribute("charset")).toBe("utf-8");
    expect(csp?.getAttribute("content")).toBe(
      "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
    );
    expect(doc.head.querySelector('meta[name="referrer"]')?.getAttribute("content")).toBe("no-referrer");
    expect(doc.body.innerHTML).toBe("<p>hello</p>");
  });

  it("allows https images in the CSP only when the user asked", () => {
    expect(previewMetaCsp({ allowRemoteImages: true })).toContain("img-src data: cid: https:;");
    expect(previewMetaCsp()).not.toContain("https:");
    expect(previewMetaCsp()).not.toContain("frame-ancestors");
  });
});

describe("preview response headers", () => {
  it("sandbox the document and restrict framing when served from a URL", () => {
    const headers = previewResponseHeaders();
    expect(headers["Content-Security-Policy"]).toBe(
      "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; " +
        `frame-ancestors ${OFFICE_FRAME_ANCESTORS.join(" ")}; sandbox`,
    );
    // Framed by the task pane inside Outlook: SAMEORIGIN would refuse it there; frame-ancestors decides.
    expect(headers).not.toHaveProperty("X-Frame-Options");
    expect(headers).toMatchObject({
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "Cache-Control": "no-store",
      "Content-Type": "text/html; charset=utf-8",
    });
    expect(previewHeaderCsp({ allowRemoteImages: true })).toContain("img-src data: cid: https:;");
  });
});

describe("buildPreviewIframe", () => {
  it("escapes the document into srcdoc so it round-trips exactly, with no scripts or same-origin", () => {
    const documentHtml = buildPreviewDocument("<p title=\"a&quot;b\">x &amp; &lt;y&gt; 'q'</p>");
    const doc = parse(`<body>${buildPreviewIframe(documentHtml, 'Preview "x"')}</body>`);
    const iframe = doc.querySelector("iframe");
    expect(iframe?.getAttribute("srcdoc")).toBe(documentHtml);
    expect(iframe?.getAttribute("sandbox")).toBe(PREVIEW_IFRAME_SANDBOX);
    expect(iframe?.getAttribute("title")).toBe('Preview "x"');
    // Every restriction: no scripts, no same-origin, no forms, modals, popups (links open nothing) or navigation.
    expect(PREVIEW_IFRAME_SANDBOX).toBe("");
  });
});
