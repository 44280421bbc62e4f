import {
  Badge,
  Button,
  Checkbox,
  Field,
  makeStyles,
  MessageBar,
  MessageBarBody,
  Text,
  Textarea,
  tokens,
} from "@fluentui/react-components";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import type { TriageDecisionBody, TriageItem } from "../../../../shared/schemas/reports";
import type { TriageDecision } from "../../../api/endpoints";
import { asApiError } from "../../../api/errors";
import { countOf, formatDateTime } from "../../components/format";
import { useApi } from "../../context";
import { KIND_CLAIMS, KIND_COLORS, KIND_LABELS, peopleList } from "./reviewText";

const useStyles = makeStyles({
  row: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalXS,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalXS}`,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    minWidth: 0,
  },
  subject: { margin: 0, overflowWrap: "anywhere" },
  wrap: { overflowWrap: "anywhere" },
  meta: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalXS, alignItems: "center" },
  notes: { margin: 0, paddingLeft: tokens.spacingHorizontalL, overflowWrap: "anywhere" },
  buttons: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS },
  panel: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalS,
    padding: tokens.spacingHorizontalS,
    border: `1px solid ${tokens.colorNeutralStroke1}`,
    borderRadius: tokens.borderRadiusMedium,
  },
});

const STALE = new Set(["conflict", "not_found"]);

/** What a decision means for this report, shown next to its form. */
function decisionHint(item: TriageItem, decision: TriageDecision): string {
  return decision === "confirm"
    ? `The reporters are right: this message ${KIND_CLAIMS[item.kind]}.`
    : `The reporters are wrong: this message does not fit “${KIND_LABELS[item.kind].toLowerCase()}”.`;
}

/** One reported message in the triage queue, with Confirm / Dismiss and, once chosen, the decision's options. */
export function ReportRow(props: {
  item: TriageItem;
  onDecided: (item: TriageItem, decision: TriageDecision, body: TriageDecisionBody) => void;
}) {
  const api = useApi();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const { item } = props;
  const [choice, setChoice] = useState<TriageDecision | null>(null);
  const [note, setNote] = useState("");
  const [block, setBlock] = useState(false);
  const noteRef = useRef<HTMLTextAreaElement>(null);
  const subject = item.message ? item.message.subject || "(no subject)" : "Message not in the archive";
  const panelId = `review-report-decision-${item.id}`;
  const canBlock = choice === "confirm" && item.kind !== "not_spam" && item.message !== null;

  useEffect(() => {
    if (choice) noteRef.current?.focus();
  }, [choice]);

  const decide = useMutation({
    mutationFn: (input: { decision: TriageDecision; body: TriageDecisionBody }) =>
      api.admin.triage(item.id, input.decision, input.body),
    onSuccess: (result, input) => props.onDecided(result, input.decision, input.body),
    onError: (error) => {
      if (STALE.has(asApiError(error).id))
        void queryClient.invalidateQueries({ queryKey: ["review", "reports"] });
    },
  });
  const submit = () => {
    if (!choice) return;
    const body: TriageDecisionBody = {
      ...(note.trim() ? { outcome: note.trim() } : {}),
      ...(canBlock && block ? { blockSender: true } : {}),
    };
    decide.mutate({ decision: choice, body });
  };
  const cancel = () => {
    document.getElementById(`review-report-${choice ?? "confirm"}-${item.id}`)?.focus();
    setChoice(null);
  };
  const choose = (decision: TriageDecision) => {
    decide.reset();
    setChoice(choice === decision ? null : decision);
  };

  return (
    <li className={styles.row} data-testid="review-report-row" data-report-id={item.id}>
      <span className={styles.meta}>
        <Badge appearance="tint" color={KIND_COLORS[item.kind]}>
          Reported as {KIND_LABELS[item.kind].toLowerCase()}
        </Badge>
        {item.reportCount > 1 ? (
          <Badge appearance="outline">{countOf(item.reportCount, "report")}</Badge>
        ) : null}
        <Text size={200}>{formatDateTime(item.createdAt)}</Text>
      </span>
      <Text as="h3" weight="semibold" className={styles.subject}>
        {subject}
      </Text>
      {item.message ? (
        <Text size={200} className={styles.wrap}>
          From {item.message.from} · sent {formatDateTime(item.message.date)}
        </Text>
      ) : item.internetMessageId ? (
        <Text size={200} className={styles.wrap}>
          Message-ID {item.internetMessageId}
        </Text>
      ) : null}
      <Text size={200} className={styles.wrap}>
        Reported by {peopleList(item.reporters)}
      </Text>
      {item.notes.length > 0 ? (
        <ul className={styles.notes} aria-label="Reporters' notes">
          {item.notes.map((text, index) => (
            <li key={index}>
              <Text size={200}>“{text}”</Text>
            </li>
          ))}
        </ul>
      ) : null}
      <div className={styles.buttons} role="group" aria-label={`Decide on the report of “${subject}”`}>
        {(["confirm", "dismiss"] as const).map((decision) => (
          <Button
            key={decision}
            id={`review-report-${decision}-${item.id}`}
            size="small"
            appearance={choice === decision ? "primary" : "secondary"}
            aria-expanded={choice === decision}
            aria-controls={choice === decision ? panelId : undefined}
            onClick={() => choose(decision)}
            data-testid={`review-report-${decision}`}
          >
            {decision === "confirm" ? "Confirm" : "Dismiss"}
          </Button>
        ))}
      </div>
      {choice ? (
        <div
          id={panelId}
          className={styles.panel}
          role="group"
          aria-label={choice === "confirm" ? "Confirm the report" : "Dismiss the report"}
          data-testid="review-report-decision"
        >
          <Text size={200}>{decisionHint(item, choice)}</Text>
          <Field label="Message to the reporters (optional)">
            <Textarea
              ref={noteRef}
              value={note}
              maxLength={1000}
              onChange={(_e, data) => setNote(data.value)}
              data-testid="review-report-outcome"
            />
          </Field>
          {canBlock && item.message ? (
            <Checkbox
              checked={block}
              onChange={(_e, data) => setBlock(data.checked === true)}
              label={`Also block ${item.message.from} for everyone`}
              data-testid="review-report-block"
            />
          ) : null}
          {decide.isError ? (
            <MessageBar intent="error" role="alert" data-testid="review-action-error">
              <MessageBarBody>{asApiError(decide.error).message}</MessageBarBody>
            </MessageBar>
          ) : null}
          <div className={styles.buttons}>
            <Button
              appearance="primary"
              disabled={decide.isPending}
              onClick={submit}
              data-testid="review-report-submit"
            >
              {choice === "confirm" ? "Confirm report" : "Dismiss report"}
            </Button>
            <Button disabled={decide.isPending} onClick={cancel}>
              Cancel
            </Button>
          </div>
        </div>
      ) : null}
    </li>
  );
}
