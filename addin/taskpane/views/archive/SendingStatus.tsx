import { MessageBar, MessageBarBody, MessageBarTitle, makeStyles, tokens } from "@fluentui/react-components";
import type { ArchiveSendStatus } from "../../../../shared/schemas/archive";

const useStyles = makeStyles({
  list: { margin: 0, marginTop: tokens.spacingVerticalXS, paddingLeft: tokens.spacingHorizontalL },
});

const INTENT = {
  sending: "info",
  retrying: "warning",
  sent: "success",
  refused: "warning",
  failed: "error",
} as const;

const TITLE: Record<ArchiveSendStatus["state"], string> = {
  sending: "Sending",
  retrying: "Not delivered yet",
  sent: "Sent",
  refused: "Not sent yet",
  failed: "Not sent",
};

const RECIPIENT: Record<ArchiveSendStatus["recipients"][number]["state"], string> = {
  sending: "on its way",
  retrying: "retrying",
  sent: "delivered",
  failed: "not delivered",
};

/**
 * How a forward or reply sent from the archive is getting on, on the message itself: the person
 * learns of a bounce or of Microsoft 365 refusing to send as them without asking IT.
 */
export function SendingStatus(props: { status: ArchiveSendStatus }) {
  const styles = useStyles();
  const { status } = props;
  const alert = status.state === "failed" || status.state === "refused";
  return (
    <MessageBar
      intent={INTENT[status.state]}
      layout="multiline"
      data-testid="archive-sending"
      role={alert ? "alert" : "status"}
    >
      <MessageBarBody>
        <MessageBarTitle>{TITLE[status.state]}</MessageBarTitle>
        {status.detail}
        {status.recipients.length > 0 ? (
          <ul className={styles.list} aria-label="Recipients">
            {status.recipients.map((r) => (
              <li key={r.address}>
                {r.address}: {RECIPIENT[r.state]}
                {r.response ? ` (${r.response})` : ""}
              </li>
            ))}
          </ul>
        ) : null}
      </MessageBarBody>
    </MessageBar>
  );
}
