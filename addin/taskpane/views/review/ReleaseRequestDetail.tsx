import {
  Badge,
  Button,
  makeStyles,
  MessageBar,
  MessageBarBody,
  Text,
  tokens,
} from "@fluentui/react-components";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import type { HeldDetail, HeldItem, ReleaseRequestItem } from "../../../../shared/schemas/held";
import type { ReleaseDecision } from "../../../api/endpoints";
import { asApiError } from "../../../api/errors";
import { AuthResultsList } from "../../components/AuthResultsList";
import { FactList } from "../../components/FactList";
import { formatBytes, formatDateTime, REASON_LABELS, timeUntil } from "../../components/format";
import { MessageFrame } from "../../components/MessageFrame";
import { MessageLinks } from "../../components/MessageLinks";
import { ErrorState, LoadingState } from "../../components/states";
import { useApi } from "../../context";
import { ReleaseDecisionForm } from "./ReleaseDecisionForm";
import { signalTexts } from "./reviewText";

const useStyles = makeStyles({
  detail: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalM, minWidth: 0 },
  list: { margin: 0, paddingLeft: tokens.spacingHorizontalL },
  note: {
    margin: 0,
    paddingLeft: tokens.spacingHorizontalS,
    borderLeft: `3px solid ${tokens.colorNeutralStroke1}`,
    overflowWrap: "anywhere",
  },
  heading: { ":focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}` } },
});

/** Errors after which the queue itself is out of date (someone else decided, the hold expired or went away). */
const STALE = new Set(["conflict", "expired", "not_found"]);

function Facts(props: { request: ReleaseRequestItem }) {
  const { request } = props;
  const { held } = request;
  const rows: [string, string][] = [
    ["From", held.from],
    ["To", held.to],
    ["Received", formatDateTime(held.receivedAt)],
    ["Requested by", request.requester],
    ["Requested", formatDateTime(request.createdAt)],
    ["Expires", `${timeUntil(held.expiresAt)} (${formatDateTime(held.expiresAt)})`],
    ["Score", held.score.toFixed(1)],
  ];
  return <FactList rows={rows} />;
}

/** Why the message was held: the engine's sentence, its signals in plain words, and the authentication results. */
function WhyHeld(props: { item: HeldDetail }) {
  const styles = useStyles();
  const { item } = props;
  const reasons = signalTexts(item.signals);
  return (
    <>
      {item.explanation ? <Text>{item.explanation}</Text> : null}
      {reasons.length > 0 ? (
        <ul className={styles.list} aria-label="Why it was held" data-testid="review-signals">
          {reasons.map((text) => (
            <li key={text}>{text}</li>
          ))}
        </ul>
      ) : null}
      {item.auth ? <AuthResultsList results={item.auth} /> : null}
    </>
  );
}

/** The message in the Held view's sandboxed preview, with its attachments and where its links really go. */
function Preview(props: { item: HeldDetail; images: "block" | "show"; onShowImages: () => void }) {
  const styles = useStyles();
  const { item } = props;
  return (
    <>
      <MessageFrame
        title={`Preview of the requested message: ${item.subject}`}
        previewUrl={item.previewUrl}
        text={item.text}
        remoteImagesBlocked={item.remoteImagesBlocked}
        remoteImagesShown={props.images === "show"}
        onShowRemoteImages={props.onShowImages}
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
    </>
  );
}

/**
 * One release request: what was held and why, the requester's note, Approve / Deny with an optional note for
 * the requester, and the message in the same sandboxed preview the Held view uses.
 */
export function ReleaseRequestDetail(props: {
  request: ReleaseRequestItem;
  onBack: () => void;
  backClassName: string;
  onDecided: (decision: ReleaseDecision, result: HeldItem) => void;
}) {
  const api = useApi();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const { request } = props;
  const { held } = request;
  const [images, setImages] = useState<"block" | "show">("block");
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
  }, []);

  const detail = useQuery({
    queryKey: ["held", "detail", request.heldId, images],
    queryFn: () => api.held.get(request.heldId, images),
  });
  const decide = useMutation({
    mutationFn: (input: { decision: ReleaseDecision; note: string }) =>
      api.admin.decideRelease(request.heldId, input.decision, input.note ? { note: input.note } : {}),
    onSuccess: (result, input) => props.onDecided(input.decision, result),
    onError: (error) => {
      if (STALE.has(asApiError(error).id))
        void queryClient.invalidateQueries({ queryKey: ["review", "requests"] });
    },
  });

  return (
    <article
      className={styles.detail}
      aria-labelledby="review-detail-subject"
      data-testid="review-request-detail"
    >
      <Button
        className={props.backClassName}
        style={{ alignSelf: "flex-start" }}
        size="small"
        appearance="subtle"
        onClick={props.onBack}
      >
        ← Back to requests
      </Button>
      <Text
        as="h2"
        size={400}
        weight="semibold"
        id="review-detail-subject"
        ref={heading}
        tabIndex={-1}
        className={styles.heading}
      >
        {held.subject || "(no subject)"}
      </Text>
      <div>
        <Badge color={held.reason === "phish" ? "danger" : "warning"}>
          {REASON_LABELS[held.reason] ?? held.reason}
        </Badge>
      </div>
      <Facts request={request} />
      {request.note ? (
        <p className={styles.note} data-testid="review-requester-note">
          Note from {request.requester}: “{request.note}”
        </p>
      ) : (
        <Text size={200}>{request.requester} left no note.</Text>
      )}
      {detail.isPending ? <LoadingState label="Loading the message…" /> : null}
      {detail.isError ? (
        <ErrorState
          error={detail.error}
          title="The message could not be shown"
          onRetry={() => void detail.refetch()}
        />
      ) : null}
      {detail.isSuccess ? <WhyHeld item={detail.data} /> : null}
      <ReleaseDecisionForm
        requester={request.requester}
        recipient={held.to}
        reason={held.reason}
        busy={decide.isPending}
        onDecide={(decision, note) => decide.mutate({ decision, note })}
      />
      {decide.isError ? (
        <MessageBar intent="error" role="alert" data-testid="review-action-error">
          <MessageBarBody>{asApiError(decide.error).message}</MessageBarBody>
        </MessageBar>
      ) : null}
      {detail.isSuccess ? (
        <Preview item={detail.data} images={images} onShowImages={() => setImages("show")} />
      ) : null}
    </article>
  );
}
