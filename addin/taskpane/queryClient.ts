import { MutationCache, QueryCache, QueryClient, type QueryKey } from "@tanstack/react-query";
import { ApiError } from "../api/errors";

/** The cached answer of GET /api/me, whose 401 is what brings back the portal's sign-in form. */
export const ME_QUERY_KEY: QueryKey = ["me"];

/** Retries only what retrying can fix: network failures and 5xx, once. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  if (failureCount >= 1) return false;
  return error instanceof ApiError && (error.id === "network_error" || error.status >= 500);
}

/** How the client reacts to answers about the session itself. */
export interface QueryClientOptions {
  /**
   * Asks /api/me again when any other call answers `unauthenticated` (the portal's cookie session ended mid-use),
   * so that its 401 brings back the sign-in form instead of an error whose "Try again" can only fail again.
   */
  recheckSessionOnUnauthenticated?: boolean;
}

/** A query client with the app's defaults (also used by tests). */
export function createQueryClient(options: QueryClientOptions = {}): QueryClient {
  const recheckSession = (error: unknown, queryKey?: QueryKey) => {
    if (!options.recheckSessionOnUnauthenticated) return;
    if (!(error instanceof ApiError) || error.id !== "unauthenticated") return;
    if (queryKey?.[0] === ME_QUERY_KEY[0]) return;
    void client.invalidateQueries({ queryKey: ME_QUERY_KEY, exact: true });
  };
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError: (error, query) => recheckSession(error, query.queryKey) }),
    mutationCache: new MutationCache({ onError: (error) => recheckSession(error) }),
    defaultOptions: {
      queries: { retry: shouldRetry, staleTime: 20_000, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
  return client;
}
