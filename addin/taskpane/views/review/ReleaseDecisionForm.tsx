import {
  Button,
  Field,
  makeStyles,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
  Textarea,
  tokens,
} from "@fluentui/react-components";
import { useEffect, useRef, useState } from "react";
import type { ReleaseDecision } from "../../../api/endpoints";
import { REASON_LABELS } from "../../components/format";

const useStyles = makeStyles({
  form: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalM, minWidth: 0 },
  buttons: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS },
});

/**
 * The decision on a release request: an optional note for the requester, Approve / Deny. Requests exist only
 * for holds an agent may not release themself (phishing, dangerous attachments), so Approve first shows what
 * releasing means and takes a second, deliberate click.
 */
export function ReleaseDecisionForm(props: {
  requester: string;
  recipient: string;
  reason: string;
  busy: boolean;
  onDecide: (decision: ReleaseDecision, note: string) => void;
}) {
  const styles = useStyles();
  const [note, setNote] = useState("");
  const [confirming, setConfirming] = useState(false);
  const warning = useRef<HTMLDivElement>(null);
  const approveButton = useRef<HTMLButtonElement>(null);

  const cancelled = useRef(false);

  // Focus follows the step: onto the warning when it opens, back to Approve (enabled again) after Cancel.
  useEffect(() => {
    if (confirming) warning.current?.focus();
    else if (cancelled.current) approveButton.current?.focus();
    cancelled.current = false;
  }, [confirming]);

  const approve = () => {
    if (!confirming) setConfirming(true);
    else props.onDecide("approve", note.trim());
  };
  const cancel = () => {
    cancelled.current = true;
    setConfirming(false);
  };

  return (
    <div className={styles.form} role="group" aria-label="Decision">
      <Field label={`Note for ${props.requester} (optional, included in the mail telling them)`}>
        <Textarea
          value={note}
          maxLength={1000}
          onChange={(_e, data) => setNote(data.value)}
          data-testid="review-decision-note"
        />
      </Field>
      {confirming ? (
        <MessageBar
          intent="warning"
          layout="multiline"
          ref={warning}
          tabIndex={-1}
          data-testid="review-approve-warning"
        >
          <MessageBarBody>
            <MessageBarTitle>
              Release a message held as {(REASON_LABELS[props.reason] ?? props.reason).toLowerCase()}?
            </MessageBarTitle>
            It goes to {props.recipient} with its links and attachments. Release it only when you have checked
            with the sender through another channel.
          </MessageBarBody>
          <MessageBarActions>
            <Button
              appearance="primary"
              disabled={props.busy}
              onClick={approve}
              data-testid="review-approve-confirm"
            >
              Release anyway
            </Button>
            <Button disabled={props.busy} onClick={cancel} data-testid="review-approve-cancel">
              Cancel
            </Button>
          </MessageBarActions>
        </MessageBar>
      ) : null}
      <div className={styles.buttons}>
        <Button
          appearance="primary"
          disabled={props.busy || confirming}
          onClick={approve}
          ref={approveButton}
          data-testid="review-approve"
        >
          Approve and release
        </Button>
        <Button
          disabled={props.busy}
          onClick={() => props.onDecide("deny", note.trim())}
          data-testid="review-deny"
        >
          Deny
        </Button>
      </div>
    </div>
  );
}
