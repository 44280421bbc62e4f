/** Where real Graph lives; links and SDK requests to it can be routed to the fake with createGraphFetch. */
export const GRAPH_PUBLIC_BASE_URL = "https://graph.microsoft.com/v1.0";

/** A fetch-compatible function (what an HTTP client or a Graph SDK middleware can call). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * A fetch that sends `https://graph.microsoft.com/...` to the fake (keeping path and query) and refuses any
 * other host, so a connector configured with the real Graph URL runs offline against the fake.
 */
export function createGraphFetch(fake: { url: string }): FetchLike {
  const local = new URL(fake.url).origin;
  const rewrite = (target: string): string => {
    const parsed = new URL(target);
    if (parsed.origin === local) return target;
    if (parsed.origin !== "https://graph.microsoft.com")
      throw new Error(`The Graph fake fetch refuses ${parsed.origin}`);
    return `${local}${parsed.pathname}${parsed.search}`;
  };
  return async (input, init) => {
    if (input instanceof Request) return fetch(new Request(rewrite(input.url), input), init);
    return fetch(rewrite(typeof input === "string" ? input : input.href), init);
  };
}
