import type { OutboundRequest } from "../../archive/outbound";

/**
 * The archived message a forward or reply answers, for a sender that can send it from the
 * person's own copy of that message (Graph's forward/reply): its Message-ID, the person's
 * own words, whether a reply goes to all, and the recipients we computed. The delivery queue
 * ignores it and sends the composed MIME.
 */
export interface OriginalRef {
  internetMessageId: string | null;
  comment: string;
  replyAll: boolean;
}

/** An outbound forward or reply that also names the message it forwards or answers. */
export interface OutboundWithOriginal extends OutboundRequest {
  original: OriginalRef;
}

/** The original a request names, or null (requests that were built without one). */
export function originalOf(request: OutboundRequest): OriginalRef | null {
  if (!("original" in request)) return null;
  const value: unknown = request.original;
  if (typeof value !== "object" || value === null) return null;
  const { internetMessageId, comment, replyAll } = value as Record<string, unknown>;
  return {
    internetMessageId: typeof internetMessageId === "string" && internetMessageId ? internetMessageId : null,
    comment: typeof comment === "string" ? comment : "",
    replyAll: replyAll === true,
  };
}
