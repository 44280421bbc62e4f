import {
  Badge,
  Button,
  Field,
  makeStyles,
  MessageBar,
  MessageBarBody,
  Text,
  Textarea,
  tokens,
} from "@fluentui/react-components";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import type { HeldAction, HeldDetail as HeldDetailData } from "../../../../shared/schemas/held";
import { asApiError } from "../../../api/errors";
import { AuthResultsList } from "../../components/AuthResultsList";
import { FactList } from "../../components/FactList";
import {
  formatBytes,
  formatDateTime,
  isOpenHold,
  REASON_LABELS,
  signalText,
  STATUS_LABELS,
  timeUntil,
} from "../../components/format";
import { MessageFrame } from "../../components/MessageFrame";
import { ReleaseWarning } from "../../components/ReleaseWarning";
import { MessageLinks } from "../../components/MessageLinks";
import { ErrorState, LoadingState } from "../../components/states";
import { useApi, useApp } from "../../context";
import { ACTION_DONE, ACTION_LABELS, allowedActions, heldAsDangerous } from "./heldActions";

/** Answers that mean the message changed under the person (a team mate, the digest link, expiry): refresh it. */
const STALE = new Set(["conflict", "expired", "not_found"]);

const useStyles = makeStyles({
  // A subject or signal with a long word (a tracking link) breaks inside the pane rather than widening it.
  detail: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalM,
    minWidth: 0,
    overflowWrap: "break-word",
  },
  buttons: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS },
  list: { margin: 0, paddingLeft: tokens.spacingHorizontalL },
});

function Facts(props: { item: HeldDetailData }) {
  const { item } = props;
  const rows: [string, string][] = [
    ["From", item.from],
    ["To", item.to],
    ["Received", formatDateTime(item.receivedAt)],
    ["Status", STATUS_LABELS[item.status] ?? item.status],
    [
      "Expires",
      isOpenHold(item.status) ? `${timeUntil(item.expiresAt)} (${formatDateTime(item.expiresAt)})` : "—",
    ],
    ["Score", item.score.toFixed(1)],
  ];
  return <FactList rows={rows} />;
}

/** One held message: facts, why it was held, the sandboxed preview, and the actions the person may take. */
export function HeldDetail(props: { id: string; onBack: () => void; backClassName: string }) {
  const api = useApi();
  const { me } = useApp();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const [images, setImages] = useState<"block" | "show">("block");
  const [requesting, setRequesting] = useState(false);
  const [note, setNote] = useState("");
  const [done, setDone] = useState<HeldAction | null>(null);
  // A release of a phishing or dangerous-attachment hold waits for a second, deliberate click on what it means.
  const [confirming, setConfirming] = useState<HeldAction | null>(null);
  const outcome = useRef<HTMLDivElement>(null);

  // The pressed button goes once the message is no longer held: focus the outcome instead of losing it to the page.
  useEffect(() => {
    if (done) outcome.current?.focus();
  }, [done]);
  const detail = useQuery({
    queryKey: ["held", "detail", props.id, images],
    queryFn: () => api.held.get(props.id, images),
  });
  const act = useMutation({
    mutationFn: (input: { action: HeldAction; note?: string }) =>
      api.held.act(props.id, input.action, input.note ? { note: input.note } : {}),
    onSuccess: (_item, input) => {
      setDone(input.action);
      setConfirming(null);
      setRequesting(false);
      void queryClient.invalidateQueries({ queryKey: ["held"] });
      if (input.action !== "request-release" && input.action !== "delete") {
        void queryClient.invalidateQueries({ queryKey: ["senders"] });
      }
    },
    onError: (error) => {
      if (STALE.has(asApiError(error).id)) void queryClient.invalidateQueries({ queryKey: ["held"] });
    },
  });

  const back = (
    <Button
      className={props.backClassName}
      style={{ alignSelf: "flex-start" }}
      size="small"
      appearance="subtle"
      onClick={props.onBack}
    >
      ← Back to list
    </Button>
  );
  if (detail.isPending)
    return (
      <div>
        {back}
        <LoadingState label="Loading message…" />
      </div>
    );
  if (detail.isError) {
    return (
      <div>
        {back}
        <ErrorState error={detail.error} onRetry={() => void detail.refetch()} />
      </div>
    );
  }
  const item = detail.data;
  const actions = allowedActions(item, me?.permissions ?? []);
  const dangerous = heldAsDangerous(item);
  const choose = (action: HeldAction) => {
    if (action === "request-release") setRequesting(true);
    else if (dangerous && (action === "release" || action === "release-and-permit")) setConfirming(action);
    else act.mutate({ action });
  };
  return (
    <article className={styles.detail} aria-labelledby="held-detail-subject" data-testid="held-detail">
      {back}
      <Text as="h2" size={400} weight="semibold" id="held-detail-subject">
        {item.subject || "(no subject)"}
      </Text>
      <div>
        <Badge color={item.reason === "phish" ? "danger" : "warning"}>
          {REASON_LABELS[item.reason] ?? item.reason}
        </Badge>
      </div>
      {item.explanation ? <Text>{item.explanation}</Text> : null}
      <Facts item={item} />
      {item.auth ? <AuthResultsList results={item.auth} /> : null}
      {item.signals.length > 0 ? (
        <ul className={styles.list} aria-label="Why it was held">
          {item.signals.map((signal) => (
            <li key={signal.name}>{signalText(signal)}</li>
          ))}
        </ul>
      ) : null}
      {item.releaseRequest ? (
        <MessageBar intent="info">
          <MessageBarBody>Release request: {item.releaseRequest.status}.</MessageBarBody>
        </MessageBar>
      ) : null}
      {done ? (
        <MessageBar intent="success" data-testid="held-action-done" ref={outcome} tabIndex={-1}>
          <MessageBarBody>The message was {ACTION_DONE[done]}.</MessageBarBody>
        </MessageBar>
      ) : null}
      {act.isError ? (
        <MessageBar intent="error" role="alert" data-testid="held-action-error">
          <MessageBarBody>{asApiError(act.error).message}</MessageBarBody>
        </MessageBar>
      ) : null}
      {actions.length > 0 ? (
        <div className={styles.buttons} role="group" aria-label="Actions">
          {actions.map((action) => (
            <Button
              key={action}
              appearance={action === "release" || action === "request-release" ? "primary" : "secondary"}
              disabled={act.isPending || confirming !== null}
              data-testid={`held-${action}`}
              onClick={() => choose(action)}
            >
              {ACTION_LABELS[action]}
            </Button>
          ))}
        </div>
      ) : null}
      {confirming ? (
        <ReleaseWarning
          title={`Release a message held as ${(REASON_LABELS[item.reason] ?? item.reason).toLowerCase()}?`}
          busy={act.isPending}
          onConfirm={() => act.mutate({ action: confirming })}
          onCancel={() => setConfirming(null)}
          testIdPrefix="held-release"
        >
          It goes to {item.to} with its links and attachments. Release it only when you have checked with the
          sender through another channel.
        </ReleaseWarning>
      ) : null}
      {requesting ? (
        <div className={styles.detail}>
          <Field label="Why do you need this message? (sent to your security team)">
            <Textarea value={note} onChange={(_e, data) => setNote(data.value)} />
          </Field>
          <div className={styles.buttons}>
            <Button
              appearance="primary"
              disabled={act.isPending}
              data-testid="held-request-release-submit"
              onClick={() => act.mutate({ action: "request-release", note: note.trim() || undefined })}
            >
              Send request
            </Button>
            <Button onClick={() => setRequesting(false)}>Cancel</Button>
          </div>
        </div>
      ) : null}
      <MessageFrame
        title={`Preview of held message: ${item.subject}`}
        previewUrl={item.previewUrl}
        text={item.text}
        remoteImagesBlocked={item.remoteImagesBlocked}
        remoteImagesShown={images === "show"}
        onShowRemoteImages={() => setImages("show")}
      />
      {item.attachments.length > 0 ? (
        <ul className={styles.list} aria-label="Attachments">
          {item.attachments.map((attachment, index) => (
            <li key={`${attachment.filename}-${index}`}>
              {attachment.filename} ({formatBytes(attachment.size)})
            </li>
          ))}
        </ul>
      ) : null}
      <MessageLinks links={item.links} />
    </article>
  );
}
