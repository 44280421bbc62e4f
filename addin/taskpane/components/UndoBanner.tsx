import { Button, MessageBar, MessageBarActions, MessageBarBody } from "@fluentui/react-components";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { asApiError } from "../../api/errors";
import {
  clearLastAction,
  LAST_ACTION_CHANGED,
  loadLastAction,
  type LastAction,
} from "../../office/lastAction";
import { useApi } from "../context";

/** Offers Undo for the last Block/Permit a ribbon button made (the commands leave a note in localStorage). */
export function UndoBanner() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [action, setAction] = useState<LastAction | null>(() => loadLastAction());
  useEffect(() => {
    const refresh = () => setAction(loadLastAction());
    const events = ["storage", "focus", LAST_ACTION_CHANGED];
    for (const event of events) window.addEventListener(event, refresh);
    return () => {
      for (const event of events) window.removeEventListener(event, refresh);
    };
  }, []);
  const undo = useMutation({
    mutationFn: (rule: LastAction) => api.senders.remove(rule.ruleId),
    onSuccess: () => {
      clearLastAction();
      setAction(null);
      void queryClient.invalidateQueries({ queryKey: ["senders"] });
    },
  });
  if (!action) return null;
  const verb = action.kind === "block" ? "blocked" : "permitted";
  return (
    <MessageBar intent={undo.isError ? "error" : "success"} data-testid="undo-banner">
      <MessageBarBody>
        {undo.isError ? asApiError(undo.error).message : `You ${verb} ${action.pattern}.`}
      </MessageBarBody>
      <MessageBarActions
        containerAction={
          <Button
            size="small"
            appearance="transparent"
            aria-label="Dismiss"
            onClick={() => {
              clearLastAction();
              setAction(null);
            }}
          >
            ✕
          </Button>
        }
      >
        <Button
          size="small"
          data-testid="undo-last-action"
          disabled={undo.isPending}
          onClick={() => undo.mutate(action)}
          aria-label={`Undo: ${verb} ${action.pattern}`}
        >
          Undo
        </Button>
      </MessageBarActions>
    </MessageBar>
  );
}
