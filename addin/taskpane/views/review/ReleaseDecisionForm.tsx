import { Button, Field, makeStyles, Textarea, tokens } from "@fluentui/react-components";
import { useEffect, useRef, useState } from "react";
import type { ReleaseDecision } from "../../../api/endpoints";
import { REASON_LABELS } from "../../components/format";
import { ReleaseWarning } from "../../components/ReleaseWarning";

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
  const approveButton = useRef<HTMLButtonElement>(null);

  const cancelled = useRef(false);

  // Focus follows the step: onto the warning when it opens (ReleaseWarning), back to Approve (enabled again) after Cancel.
  useEffect(() => {
    if (!confirming && cancelled.current) approveButton.current?.focus();
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
        <ReleaseWarning
          title={`Release a message held as ${(REASON_LABELS[props.reason] ?? props.reason).toLowerCase()}?`}
          busy={props.busy}
          onConfirm={approve}
          onCancel={cancel}
          testIdPrefix="review-approve"
        >
          It goes to {props.recipient} with its links and attachments. Release it only when you have checked
          with the sender through another channel.
        </ReleaseWarning>
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
