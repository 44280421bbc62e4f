import {
  Button,
  Checkbox,
  Field,
  Input,
  makeStyles,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  Text,
  Textarea,
  tokens,
} from "@fluentui/react-components";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { z } from "zod";
import { asApiError } from "../../../api/errors";
import { formatBytes, formatDateTime } from "../../components/format";
import { MessageFrame } from "../../components/MessageFrame";
import { MessageLinks } from "../../components/MessageLinks";
import { ErrorState, LoadingState } from "../../components/states";
import { useApi } from "../../context";
import { saveFile } from "../../components/saveFile";
import { SendingStatus } from "./SendingStatus";

const useStyles = makeStyles({
  // A subject with a long word (a tracking link) breaks inside the pane rather than widening it.
  view: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalM,
    minWidth: 0,
    overflowWrap: "break-word",
  },
  buttons: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS },
  facts: { margin: 0, overflowWrap: "anywhere" },
  list: { margin: 0, paddingLeft: tokens.spacingHorizontalL },
});

const emailList = z.array(z.email()).min(1).max(20);

/** Splits "a@b.com, c@d.com; e@f.com" into addresses, or null if one of them is not an address. */
export function parseRecipients(input: string): string[] | null {
  const addresses = input
    .split(/[,;\s]+/)
    .map((part) => part.trim())
    .filter((part) => part !== "");
  return emailList.safeParse(addresses).success ? addresses : null;
}

type Compose = "none" | "forward" | "reply";

/** How often a message whose sending is not final is re-read. */
const SENDING_POLL_MS = 3_000;

/** One archived message: headers, sandboxed body, attachments, link targets, EML download, forward and reply. */
export function ArchiveMessageView(props: {
  id: string;
  onBack: () => void;
  backClassName: string;
  /** Opens another archived message (the forward or reply just sent, to follow its delivery). */
  onOpen?: (id: string) => void;
}) {
  const api = useApi();
  const styles = useStyles();
  const [images, setImages] = useState<"block" | "show">("block");
  const [compose, setCompose] = useState<Compose>("none");
  const [recipients, setRecipients] = useState("");
  const [text, setText] = useState("");
  const [replyAll, setReplyAll] = useState(false);
  const [invalidRecipients, setInvalidRecipients] = useState(false);
  const message = useQuery({
    queryKey: ["archive", "message", props.id, images],
    queryFn: () => api.archive.get(props.id, images),
    // A forward or reply still on its way is re-read until it is delivered or has failed.
    refetchInterval: (query) => {
      const state = query.state.data?.sending?.state;
      return state === "sending" || state === "retrying" || state === "refused" ? SENDING_POLL_MS : false;
    },
  });
  const send = useMutation({
    mutationFn: async (kind: "forward" | "reply") => {
      if (kind === "forward") {
        const to = parseRecipients(recipients);
        if (!to) throw new Error("invalid recipients");
        return api.archive.forward(props.id, { to, note: text.trim() || undefined });
      }
      return api.archive.reply(props.id, { text, replyAll });
    },
    onSuccess: () => {
      setCompose("none");
      setText("");
      setRecipients("");
    },
  });
  const download = useMutation({
    mutationFn: async () => {
      saveFile(await api.archive.raw(props.id), `message-${props.id}.eml`);
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
      ← Back to results
    </Button>
  );
  if (message.isPending)
    return (
      <div>
        {back}
        <LoadingState label="Loading message…" />
      </div>
    );
  if (message.isError) {
    return (
      <div>
        {back}
        <ErrorState error={message.error} onRetry={() => void message.refetch()} />
      </div>
    );
  }
  const item = message.data;
  const submitForward = () => {
    const ok = parseRecipients(recipients) !== null;
    setInvalidRecipients(!ok);
    if (ok) send.mutate("forward");
  };
  return (
    <article className={styles.view} aria-labelledby="archive-message-subject" data-testid="archive-message">
      {back}
      <Text as="h2" size={400} weight="semibold" id="archive-message-subject">
        {item.subject || "(no subject)"}
      </Text>
      <div className={styles.facts}>
        <Text block>From: {item.from}</Text>
        <Text block>To: {item.to.join(", ")}</Text>
        {item.cc.length > 0 ? <Text block>Cc: {item.cc.join(", ")}</Text> : null}
        <Text block>Date: {formatDateTime(item.date)}</Text>
      </div>
      {item.sending ? <SendingStatus status={item.sending} /> : null}
      <div className={styles.buttons} role="group" aria-label="Message actions">
        <Button onClick={() => setCompose("reply")} data-testid="archive-reply">
          Reply
        </Button>
        <Button onClick={() => setCompose("forward")} data-testid="archive-forward">
          Forward
        </Button>
        <Button
          onClick={() => download.mutate()}
          disabled={download.isPending}
          data-testid="archive-download"
        >
          Download .eml
        </Button>
      </div>
      {send.isSuccess ? (
        <MessageBar intent="success" data-testid="archive-sent">
          <MessageBarBody>Sent. It is on its way.</MessageBarBody>
          {props.onOpen ? (
            <MessageBarActions>
              <Button onClick={() => props.onOpen?.(send.data.id)} data-testid="archive-follow-send">
                Follow its delivery
              </Button>
            </MessageBarActions>
          ) : null}
        </MessageBar>
      ) : null}
      {send.isError || download.isError ? (
        <MessageBar intent="error" role="alert">
          <MessageBarBody>{asApiError(send.error ?? download.error).message}</MessageBarBody>
        </MessageBar>
      ) : null}
      {compose !== "none" ? (
        <div className={styles.view} role="group" aria-label={compose === "forward" ? "Forward" : "Reply"}>
          {compose === "forward" ? (
            <Field
              label="To"
              validationState={invalidRecipients ? "error" : "none"}
              validationMessage={
                invalidRecipients ? "Enter up to 20 email addresses, separated by commas." : undefined
              }
            >
              <Input
                value={recipients}
                onChange={(_e, data) => setRecipients(data.value)}
                data-testid="archive-forward-to"
              />
            </Field>
          ) : (
            <Checkbox
              checked={replyAll}
              onChange={(_e, data) => setReplyAll(data.checked === true)}
              label="Reply all"
            />
          )}
          <Field label={compose === "forward" ? "Note (optional)" : "Message"}>
            <Textarea
              value={text}
              onChange={(_e, data) => setText(data.value)}
              resize="vertical"
              data-testid="archive-compose-text"
            />
          </Field>
          <div className={styles.buttons}>
            <Button
              appearance="primary"
              disabled={send.isPending || (compose === "reply" && text.trim() === "")}
              onClick={() => (compose === "forward" ? submitForward() : send.mutate("reply"))}
              data-testid="archive-send"
            >
              Send
            </Button>
            <Button onClick={() => setCompose("none")}>Cancel</Button>
          </div>
        </div>
      ) : null}
      <MessageFrame
        title={`Archived message: ${item.subject}`}
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
