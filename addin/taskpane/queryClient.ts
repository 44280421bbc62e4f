import { QueryClient } from "@tanstack/react-query";
import { ApiError } from "../api/errors";

/** Retries only what retrying can fix: network failures and 5xx, once. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  if (failureCount >= 1) return false;
  return error instanceof ApiError && (error.id === "network_error" || error.status >= 500);
}

/** A query client with the app's defaults (also used by tests). */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: shouldRetry, staleTime: 20_000, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}
