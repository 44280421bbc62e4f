import { Badge, Button, makeStyles, Text, tokens } from "@fluentui/react-components";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { MessageVerdict } from "../../../shared/schemas/archive";
import { parseAuthenticationResults } from "../../office/authResults";
import { currentMessage, getInternetHeaders, readMessageFacts, type MessageFacts } from "../../office/item";
import { AuthResultsList } from "../components/AuthResultsList";
import { REASON_LABELS, signalText, signedPoints } from "../components/format";
import { EmptyState, ErrorState, LoadingState } from "../components/states";
import { useApi, useNavigate } from "../context";
import { verdictQuery } from "../first-view-data";
import { MessageActions } from "./MessageActions";

const useStyles = makeStyles({
  // A subject or signal with a long word (a tracking link) breaks inside the pane rather than widening it.
  section: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalM,
    overflowWrap: "break-word",
  },
  block: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalXS },
  signals: { margin: 0, paddingLeft: tokens.spacingHorizontalL },
  address: { overflowWrap: "anywhere" },
});

const VERDICT_TEXT: Record<
  MessageVerdict["verdict"],
  { label: string; color: "success" | "warning" | "danger" }
> = {
  deliver: { label: "Delivered", color: "success" },
  hold: { label: "Held", color: "warning" },
  reject: { label: "Rejected", color: "danger" },
};

/** Follows the open item (a pinned pane stays open while the person moves between messages). */
function useOpenMessage(): { item: Office.MessageRead | null; facts: MessageFacts | null } {
  const read = () => {
    const item = currentMessage();
    return { item, facts: item ? readMessageFacts(item) : null };
  };
  const [state, setState] = useState(read);
  useEffect(() => {
    const onItemChanged = () => setState(read());
    try {
      Office.context.mailbox.addHandlerAsync(Office.EventType.ItemChanged, onItemChanged);
    } catch {
      // Hosts without ItemChanged keep the pane per message.
    }
    return () => {
      try {
        Office.context.mailbox.removeHandlerAsync(Office.EventType.ItemChanged);
      } catch {
        // Nothing was registered.
      }
    };
  }, []);
  return state;
}

function Verdict(props: { verdict: MessageVerdict }) {
  const navigate = useNavigate();
  const styles = useStyles();
  const { verdict } = props;
  const look = VERDICT_TEXT[verdict.verdict];
  return (
    <div className={styles.block} data-testid="verdict">
      <Text weight="semibold">
        Mailward verdict:{" "}
        <Badge color={look.color} appearance="filled">
          {look.label}
        </Badge>{" "}
        <Text size={200}>score {verdict.score.toFixed(1)}</Text>
      </Text>
      {verdict.reason ? <Text>Reason: {REASON_LABELS[verdict.reason] ?? verdict.reason}</Text> : null}
      {verdict.signals.length > 0 ? (
        <ul className={styles.signals} aria-label="Signals behind the verdict">
          {verdict.signals.map((signal) => (
            <li key={signal.name}>
              {signalText(signal)} <Text size={200}>{signedPoints(signal.score)}</Text>
            </li>
          ))}
        </ul>
      ) : (
        <Text size={200}>No warning signs were found.</Text>
      )}
      {verdict.heldId ? (
        <Button size="small" onClick={() => navigate({ view: "held", itemId: verdict.heldId ?? undefined })}>
          Open in Held
        </Button>
      ) : null}
    </div>
  );
}

/** "This message": who sent it, how it authenticated, how Mailward scanned it, and the actions. */
export function ThisMessageView() {
  const api = useApi();
  const styles = useStyles();
  const { item, facts } = useOpenMessage();
  const messageId = facts?.internetMessageId ?? null;
  const verdict = useQuery({ ...verdictQuery(api, messageId), enabled: messageId !== null });
  const headerAuth = useQuery({
    queryKey: ["headers", messageId],
    queryFn: async () => (item ? parseAuthenticationResults((await getInternetHeaders(item)) ?? "") : null),
    enabled: item !== null,
  });
  if (!item || !facts) {
    return (
      <EmptyState
        title="No message is open"
        hint="Select a message in Outlook to see how Mailward scanned it."
      />
    );
  }
  const notScanned = verdict.data === null;
  const auth = verdict.data?.auth ?? headerAuth.data ?? null;
  return (
    <section className={styles.section} aria-labelledby="this-message-title" data-testid="this-message">
      <Text as="h2" size={400} weight="semibold" id="this-message-title">
        This message
      </Text>
      <div className={styles.block}>
        <Text weight="semibold">{facts.senderName ?? "Unknown sender"}</Text>
        <Text className={styles.address} data-testid="sender-address">
          {facts.senderAddress ?? "No sender address"}
        </Text>
        <Text size={200}>{facts.subject || "(no subject)"}</Text>
        {auth ? <AuthResultsList results={auth} /> : null}
      </div>
      {verdict.isPending && messageId ? (
        <LoadingState label="Checking how Mailward scanned this message…" />
      ) : null}
      {verdict.data ? <Verdict verdict={verdict.data} /> : null}
      {notScanned ? (
        <Text size={200} data-testid="not-scanned">
          Mailward has no record of this message (it may be internal, or older than Mailward).
        </Text>
      ) : null}
      {verdict.isError ? (
        <ErrorState
          error={verdict.error}
          title="Couldn't load the verdict"
          onRetry={() => void verdict.refetch()}
        />
      ) : null}
      <MessageActions key={facts.internetMessageId ?? facts.restId ?? ""} facts={facts} item={item} />
    </section>
  );
}
