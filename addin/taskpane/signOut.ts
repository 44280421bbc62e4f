import { useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { useApi } from "./context";

/**
 * Signs the portal session out and brings back the sign-in form: the header's "Sign out", and "Sign in again" where
 * the server asks for a recent sign-in (recent_sign_in_required).
 */
export function useSignOut(): () => Promise<void> {
  const api = useApi();
  const queryClient = useQueryClient();
  return useCallback(async () => {
    try {
      await api.auth.logout();
    } finally {
      // Reset (not clear): clear() drops the queries under the mounted observers, so nothing refetched
      // /api/me and the shell stayed up after a successful sign-out. Reset empties every cached answer
      // and refetches the active "me" query, whose 401 brings back the sign-in form.
      await queryClient.resetQueries();
    }
  }, [api, queryClient]);
}
