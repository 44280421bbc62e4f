import { Button, makeStyles, MessageBar, MessageBarBody, Text, tokens } from "@fluentui/react-components";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { HeldAction, HeldBulkResult, HeldItem } from "../../../../shared/schemas/held";
import { ReleaseWarning } from "../../components/ReleaseWarning";
import { ErrorState } from "../../components/states";
import { useApi, useApp } from "../../context";
import { ACTION_LABELS, commonActions, heldAsDangerous } from "./heldActions";

const useStyles = makeStyles({
  toolbar: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS, alignItems: "center" },
});

function bulkSummary(action: HeldAction, result: HeldBulkResult): { ok: boolean; text: string } {
  const succeeded = result.results.filter((entry) => entry.ok).length;
  const failed = result.results.length - succeeded;
  const verb = ACTION_LABELS[action].toLowerCase();
  const text = `${succeeded} message${succeeded === 1 ? "" : "s"}: ${verb} done.${failed ? ` ${failed} could not be changed.` : ""}`;
  return { ok: failed === 0, text };
}

/**
 * The Held list's bulk bar: select all or none, the count, the actions every selected message allows, and their
 * outcome. A release that includes phishing or dangerous-attachment holds (a security admin's, in everyone's list)
 * first says how many and takes a second click, as a single release of one does.
 */
export function HeldBulkBar(props: {
  items: readonly HeldItem[];
  selected: ReadonlySet<string>;
  onSelectedChange: (next: ReadonlySet<string>) => void;
}) {
  const api = useApi();
  const { me } = useApp();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const [summary, setSummary] = useState<{ ok: boolean; text: string } | null>(null);
  const [confirming, setConfirming] = useState<HeldAction | null>(null);
  const selectedItems = props.items.filter((item) => props.selected.has(item.id));
  const actions = commonActions(selectedItems, me?.permissions ?? []);
  const allSelected = props.items.length > 0 && selectedItems.length === props.items.length;
  const dangerous = selectedItems.filter(heldAsDangerous).length;

  const bulk = useMutation({
    mutationFn: (action: HeldAction) => api.held.bulk({ ids: selectedItems.map((item) => item.id), action }),
    onSuccess: (result, action) => {
      setSummary(bulkSummary(action, result));
      props.onSelectedChange(new Set());
    },
    // Also after a failure: the server may have changed some of the messages before the answer was lost.
    onSettled: () => {
      setConfirming(null);
      void queryClient.invalidateQueries({ queryKey: ["held"] });
    },
  });
  const choose = (action: HeldAction) => {
    const releases = action === "release" || action === "release-and-permit";
    if (releases && dangerous > 0) setConfirming(action);
    else bulk.mutate(action);
  };

  return (
    <>
      {props.items.length > 0 ? (
        <div className={styles.toolbar} role="toolbar" aria-label="Bulk actions">
          <Button
            size="small"
            appearance="subtle"
            onClick={() =>
              props.onSelectedChange(allSelected ? new Set() : new Set(props.items.map((item) => item.id)))
            }
          >
            {allSelected ? "Select none" : "Select all"}
          </Button>
          <Text size={200} aria-live="polite">
            {selectedItems.length} selected
          </Text>
          {actions.map((action) => (
            <Button
              key={action}
              size="small"
              disabled={bulk.isPending || confirming !== null}
              onClick={() => choose(action)}
              data-testid={`held-bulk-${action}`}
            >
              {ACTION_LABELS[action]}
            </Button>
          ))}
        </div>
      ) : null}
      {confirming ? (
        <ReleaseWarning
          title={`Release ${dangerous} message${dangerous === 1 ? "" : "s"} held as phishing or for a dangerous attachment?`}
          busy={bulk.isPending}
          onConfirm={() => bulk.mutate(confirming)}
          onCancel={() => setConfirming(null)}
          testIdPrefix="held-bulk"
        >
          {selectedItems.length === 1 ? "It goes" : `All ${selectedItems.length} go`} to their recipients with
          their links and attachments.
        </ReleaseWarning>
      ) : null}
      {summary ? (
        <MessageBar intent={summary.ok ? "success" : "warning"} data-testid="held-bulk-summary">
          <MessageBarBody>{summary.text}</MessageBarBody>
        </MessageBar>
      ) : null}
      {bulk.isError ? <ErrorState error={bulk.error} /> : null}
    </>
  );
}
