import {
  Button,
  Checkbox,
  Field,
  makeStyles,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  Textarea,
  tokens,
} from "@fluentui/react-components";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { ReportKind, ReportResult } from "../../../shared/schemas/reports";
import type { SenderKind, SenderRule } from "../../../shared/schemas/senders";
import { asApiError } from "../../api/errors";
import { forgetLastActionFor } from "../../office/lastAction";
import { getEmlBase64, type MessageFacts } from "../../office/item";
import { useApi, useCan } from "../context";

const useStyles = makeStyles({
  buttons: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS },
  panel: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  confirm: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalS,
    padding: tokens.spacingHorizontalM,
    border: `1px solid ${tokens.colorNeutralStroke1}`,
    borderRadius: tokens.borderRadiusMedium,
  },
});

/** The personal rule that already covers this exact address, if any. */
function ruleFor(rules: SenderRule[], address: string): SenderRule | undefined {
  return rules.find((rule) => rule.scope === "user" && rule.pattern === address);
}

function ReportUndo(props: { report: ReportResult; onUndone: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const undo = useMutation({
    mutationFn: () => api.reports.undo(props.report.id),
    onSuccess: () => {
      // Undoing the report also removed the block rule it made (server: undo-report), so "You blocked …" must go.
      if (props.report.blockedRuleId) {
        forgetLastActionFor(props.report.blockedRuleId);
        void queryClient.invalidateQueries({ queryKey: ["senders"] });
      }
      props.onUndone();
    },
  });
  const undoUntil = Date.parse(props.report.undoUntil);
  const [stillUndoable, setStillUndoable] = useState(() => undoUntil > Date.now());
  // A pane left open must stop offering Undo when the server's window closes (it would only answer 410).
  useEffect(() => {
    const left = undoUntil - Date.now();
    if (!(left > 0)) return;
    const timer = setTimeout(() => setStillUndoable(false), left);
    return () => clearTimeout(timer);
  }, [undoUntil]);
  const kindLabel =
    props.report.kind === "phish" ? "phishing" : props.report.kind === "spam" ? "spam" : "not spam";
  return (
    <MessageBar intent={undo.isError ? "error" : "success"} data-testid="report-done">
      <MessageBarBody>
        {undo.isError
          ? asApiError(undo.error).message
          : `Reported as ${kindLabel}. Your security team will review it.${props.report.blockedRuleId ? " The sender is blocked." : ""}`}
      </MessageBarBody>
      {stillUndoable ? (
        <MessageBarActions>
          <Button
            size="small"
            onClick={() => undo.mutate()}
            disabled={undo.isPending}
            data-testid="report-undo"
          >
            Undo
          </Button>
        </MessageBarActions>
      ) : null}
    </MessageBar>
  );
}

/** Block, Permit, Report phish (with confirmation), Report spam and Not spam for the open message. */
export function MessageActions(props: { facts: MessageFacts; item: Office.MessageRead | null }) {
  const api = useApi();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const canManageSenders = useCan("senders.manage_own");
  const canReport = useCan("reports.create");
  const address = props.facts.senderAddress;
  const [confirming, setConfirming] = useState(false);
  const [note, setNote] = useState("");
  const [alsoBlock, setAlsoBlock] = useState(false);
  const [report, setReport] = useState<ReportResult | null>(null);
  // One error bar for the latest action: cleared when another starts, and saying which action failed.
  const [failure, setFailure] = useState<string | null>(null);
  const failedWith = (what: string, error: unknown) => setFailure(`${what}: ${asApiError(error).message}`);

  const rules = useQuery({
    queryKey: ["senders", "for", address],
    queryFn: () => api.senders.list({ q: address ?? undefined, limit: 50 }),
    enabled: address !== null && canManageSenders,
  });
  const existing = address ? ruleFor(rules.data?.items ?? [], address) : undefined;

  const setRule = useMutation({
    mutationFn: (kind: SenderKind) => api.senders.create({ pattern: address ?? "", kind }),
    onMutate: () => setFailure(null),
    onError: (error, kind) => failedWith(kind === "block" ? "Not blocked" : "Not permitted", error),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["senders"] }),
  });
  const removeRule = useMutation({
    mutationFn: (rule: SenderRule) => api.senders.remove(rule.id),
    onMutate: () => setFailure(null),
    onError: (error) => failedWith("Not undone", error),
    onSuccess: (_answer, rule) => {
      forgetLastActionFor(rule.id);
      void queryClient.invalidateQueries({ queryKey: ["senders"] });
    },
  });
  const sendReport = useMutation({
    mutationFn: async (input: { kind: ReportKind; note?: string; block?: boolean }) => {
      const eml = props.item ? await getEmlBase64(props.item) : null;
      return api.reports.create({
        kind: input.kind,
        internetMessageId: props.facts.internetMessageId ?? undefined,
        restId: props.facts.restId ?? undefined,
        eml: eml ?? undefined,
        note: input.note,
        block: input.block,
      });
    },
    onMutate: () => setFailure(null),
    onError: (error) => failedWith("Not reported", error),
    onSuccess: (result) => {
      setReport(result);
      setConfirming(false);
      setNote("");
      if (result.blockedRuleId) void queryClient.invalidateQueries({ queryKey: ["senders"] });
    },
  });

  const busy = setRule.isPending || removeRule.isPending || sendReport.isPending;

  return (
    <div className={styles.panel}>
      {existing ? (
        <MessageBar intent={existing.kind === "block" ? "warning" : "info"} data-testid="sender-rule-state">
          <MessageBarBody>
            You {existing.kind === "block" ? "blocked" : "permitted"} {existing.pattern}.
          </MessageBarBody>
          <MessageBarActions>
            <Button
              size="small"
              onClick={() => removeRule.mutate(existing)}
              disabled={busy}
              data-testid="undo-sender-rule"
              aria-label={`Undo: ${existing.kind} ${existing.pattern}`}
            >
              Undo
            </Button>
          </MessageBarActions>
        </MessageBar>
      ) : null}
      {failure ? (
        <MessageBar intent="error" role="alert" data-testid="action-error">
          <MessageBarBody>{failure}</MessageBarBody>
        </MessageBar>
      ) : null}
      {report ? <ReportUndo report={report} onUndone={() => setReport(null)} /> : null}
      <div className={styles.buttons} role="group" aria-label="Actions on this message">
        {canManageSenders && address ? (
          <>
            <Button
              onClick={() => setRule.mutate("block")}
              disabled={busy || existing?.kind === "block"}
              data-testid="block-sender"
              aria-label={`Block sender ${address}`}
            >
              Block sender
            </Button>
            <Button
              onClick={() => setRule.mutate("permit")}
              disabled={busy || existing?.kind === "permit"}
              data-testid="permit-sender"
              aria-label={`Permit sender ${address}`}
            >
              Permit sender
            </Button>
          </>
        ) : null}
        {canReport ? (
          <>
            <Button
              onClick={() => setConfirming(true)}
              disabled={busy || confirming}
              data-testid="report-phish"
            >
              Report phish
            </Button>
            <Button
              onClick={() => sendReport.mutate({ kind: "spam" })}
              disabled={busy}
              data-testid="report-spam"
            >
              Report spam
            </Button>
            <Button
              appearance="subtle"
              onClick={() => sendReport.mutate({ kind: "not_spam" })}
              disabled={busy}
              data-testid="report-not-spam"
            >
              Not spam
            </Button>
          </>
        ) : null}
      </div>
      {confirming ? (
        <div
          className={styles.confirm}
          role="group"
          aria-labelledby="confirm-phish-title"
          data-testid="confirm-phish"
        >
          <strong id="confirm-phish-title">Report this message as phishing?</strong>
          <span>A copy goes to your security team. Only report messages you believe are dangerous.</span>
          <Field label="Note for the security team (optional)">
            <Textarea value={note} onChange={(_e, data) => setNote(data.value)} resize="vertical" />
          </Field>
          {address && canManageSenders ? (
            <Checkbox
              checked={alsoBlock}
              onChange={(_e, data) => setAlsoBlock(data.checked === true)}
              label={`Also block ${address}`}
            />
          ) : null}
          <div className={styles.buttons}>
            <Button
              appearance="primary"
              disabled={busy}
              data-testid="confirm-phish-submit"
              onClick={() =>
                sendReport.mutate({ kind: "phish", note: note.trim() || undefined, block: alsoBlock })
              }
            >
              Report phishing
            </Button>
            <Button onClick={() => setConfirming(false)} disabled={busy}>
              Cancel
            </Button>
          </div>
        </div>
      ) : null}
    </div>
  );
}
