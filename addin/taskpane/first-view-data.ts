import { infiniteQueryOptions, queryOptions, type QueryClient } from "@tanstack/react-query";
import type { MessageVerdict } from "../../shared/schemas/archive";
import type { HeldReason, HeldSort, HeldStatus } from "../../shared/schemas/held";
import type { MailwardApi } from "../api/endpoints";
import { ApiError } from "../api/errors";
import { currentMessage, readMessageFacts } from "../office/item";
import type { ViewId } from "./context";
import { ME_QUERY_KEY } from "./queryClient";
import { cursorPaging } from "./cursor-paging";

/** GET /api/me as the session gate reads it: one definition, so the page's early request and the gate share it. */
export function meQuery(api: MailwardApi) {
  return queryOptions({ queryKey: ME_QUERY_KEY, queryFn: () => api.me() });
}

/**
 * How Mailward scanned a message, or null when it has no record of it (a 404 is an answer, not a failure: kept in
 * the cache like one, where a failure would be asked for again by the view that shows it).
 */
async function lookUpVerdict(api: MailwardApi, messageId: string): Promise<MessageVerdict | null> {
  try {
    return await api.archive.lookup(messageId);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

/** This message's verdict, by the message's Internet Message-ID: null when Mailward never saw the message. */
export function verdictQuery(api: MailwardApi, messageId: string | null) {
  return queryOptions({
    queryKey: ["verdict", messageId],
    queryFn: () => lookUpVerdict(api, messageId ?? ""),
    retry: false,
  });
}

/**
 * Whose held messages the list shows: "" the person's own (and, for a team lead, their team's), `team` a team lead's
 * team only, `review` the whole organisation (a security admin, or someone granted `held.read_any`), as GET /api/held's
 * `scope`.
 */
export type HeldWhose = "" | "team" | "review";

/** The held list's filters and order; the view opens on HELD_FILTERS_AT_OPENING. */
export interface HeldFilters {
  whose: HeldWhose;
  status: HeldStatus | "";
  reason: HeldReason | "";
  q: string;
  /** Whose address (a person's or a group's), when the list holds other people's: "" for any. */
  recipient: string;
  sort: HeldSort;
}

/** What the Held view shows when it opens: the person's messages still held, newest first, unfiltered. */
export const HELD_FILTERS_AT_OPENING: HeldFilters = {
  whose: "",
  status: "held",
  reason: "",
  q: "",
  recipient: "",
  sort: "newest",
};

function heldPage(api: MailwardApi, filters: HeldFilters, cursor: string | undefined) {
  return api.held.list({
    scope: filters.whose || undefined,
    status: filters.status || undefined,
    reason: filters.reason || undefined,
    q: filters.q || undefined,
    recipient: (filters.whose && filters.recipient) || undefined,
    // The server's default order is left implicit, so the first page's request is the one it always was.
    sort: filters.sort === "newest" ? undefined : filters.sort,
    cursor,
  });
}

/** The Held view's list, page by page, for the given filters. */
export function heldListQuery(api: MailwardApi, filters: HeldFilters) {
  return infiniteQueryOptions({
    queryKey: [
      "held",
      "list",
      filters.whose,
      filters.status,
      filters.reason,
      filters.q,
      filters.recipient,
      filters.sort,
    ],
    queryFn: ({ pageParam }) => heldPage(api, filters, pageParam),
    ...cursorPaging,
  });
}

const ignore = () => undefined;

/**
 * The first view's own request, started now: it went out only once GET /api/me had answered, the Shell had rendered
 * and the view's code had run, two round trips and a render after the page started. Null for views that ask for
 * nothing the page can know yet (or when no message is open).
 */
function startFirstRequest(api: MailwardApi, view: ViewId): ((client: QueryClient) => void) | null {
  if (view === "message") {
    const item = currentMessage();
    const messageId = item ? readMessageFacts(item).internetMessageId : null;
    if (!messageId) return null;
    const verdict = lookUpVerdict(api, messageId);
    verdict.catch(ignore);
    return (client) => void client.prefetchQuery({ ...verdictQuery(api, messageId), queryFn: () => verdict });
  }
  if (view === "held") {
    const firstPage = heldPage(api, HELD_FILTERS_AT_OPENING, undefined);
    firstPage.catch(ignore);
    return (client) =>
      void client.prefetchInfiniteQuery({
        ...heldListQuery(api, HELD_FILTERS_AT_OPENING),
        queryFn: () => firstPage,
      });
  }
  return null;
}

/**
 * Asks for the person (GET /api/me) and the first view's data at once, as the page starts, instead of one after the
 * other. The view's answer enters the cache only once /api/me has said the person is signed in and needs no
 * two-step setup first: before that, an answer (a 401 for an ended session) is dropped, not shown to whoever signs
 * in next, and does not make the portal ask for the session again.
 */
export function startFirstViewData(client: QueryClient, api: MailwardApi, view: ViewId): void {
  const adopt = startFirstRequest(api, view);
  client.fetchQuery(meQuery(api)).then((me) => {
    if (adopt && !me.mfaEnrolmentRequired) adopt(client);
  }, ignore);
}
