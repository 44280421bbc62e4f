import {
  Button,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
  Text,
} from "@fluentui/react-components";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { z } from "zod";
import type { queueSummary } from "../../../../shared/schemas/queue";
import { asApiError } from "../../../api/errors";
import { formatDateTime } from "../../components/format";
import { useApi, useCan } from "../../context";

type QueueSummary = z.infer<typeof queueSummary>;

const QUERY_KEY = ["review", "queue"];

/** The queue in one sentence: how much waits, since when, and when it is tried again. */
export function queueSentence(q: QueueSummary): string {
  const waiting = q.queued + q.sending + q.deferred;
  if (waiting === 0) return "Nothing is waiting: every accepted message has been handed on.";
  const parts = [`${waiting} deliver${waiting === 1 ? "y" : "ies"} waiting`];
  if (q.deferred > 0) parts.push(`${q.deferred} deferred by the next hop or unreachable`);
  if (q.oldestWaitingSince) parts.push(`the oldest since ${formatDateTime(q.oldestWaitingSince)}`);
  if (q.nextRetryAt) parts.push(`next retry ${formatDateTime(q.nextRetryAt)}`);
  return `${parts.join(", ")}.`;
}

/** "Retry now": deferred deliveries (all, or one message's) due at once; Review (queue and trace) refreshes after. */
function useRetryDeferred(messageId?: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.admin.retryQueue(messageId ? { messageId } : {}),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ["review"] }),
  });
}

/**
 * The outbound queue above the message trace: whether mail waits for the next hop (Microsoft 365), the
 * next hop's most common answers, and, for `mail.queue`, "Retry now" once the hop is back, instead of
 * waiting out each delivery's backoff. Warns when no next hop is set at all.
 */
export function QueueStatus() {
  const api = useApi();
  const canRetry = useCan("mail.queue");
  const summary = useQuery({ queryKey: QUERY_KEY, queryFn: () => api.admin.queue() });
  const retry = useRetryDeferred();

  if (summary.isPending) return null;
  if (summary.isError)
    return (
      <Text role="alert" size={200} data-testid="queue-error">
        The outbound queue could not be read: {asApiError(summary.error).message}
      </Text>
    );
  const q = summary.data;
  const intent = !q.nextHop || q.deferred > 0 ? "warning" : "info";
  return (
    <MessageBar intent={intent} layout="multiline" data-testid="queue-status" data-intent={intent}>
      <MessageBarBody>
        <MessageBarTitle>Outbound queue</MessageBarTitle>
        {q.nextHop ? (
          <Text size={200}>
            To {q.nextHop}: {queueSentence(q)}
          </Text>
        ) : (
          <Text size={200}>
            No next hop is set (MAILWARD_NEXT_HOP), so accepted mail stays here: {queueSentence(q)}
          </Text>
        )}
        {q.errors.length > 0 ? (
          <ul aria-label="Why deliveries wait" data-testid="queue-errors">
            {q.errors.map((e) => (
              <li key={e.error}>
                <Text size={200}>
                  {e.deliveries} × {e.error}
                </Text>
              </li>
            ))}
          </ul>
        ) : null}
        {retry.data ? (
          <Text size={200} role="status" data-testid="queue-retried">
            {retry.data.retried === 0
              ? "Nothing was deferred."
              : `${retry.data.retried} deliver${retry.data.retried === 1 ? "y" : "ies"} will be tried now.`}
          </Text>
        ) : null}
        {retry.isError ? <Text role="alert">{asApiError(retry.error).message}</Text> : null}
      </MessageBarBody>
      {canRetry && q.nextHop && q.deferred > 0 ? (
        <MessageBarActions>
          <Button
            size="small"
            onClick={() => retry.mutate()}
            disabled={retry.isPending}
            data-testid="queue-retry"
          >
            Retry now
          </Button>
        </MessageBarActions>
      ) : null}
    </MessageBar>
  );
}

/**
 * "Retry now" for one traced message with a deferred delivery (`mail.queue`): its deliveries are due at once,
 * and the trace and the queue summary refresh. Nothing for someone who may only trace.
 */
export function RetryMessage(props: { messageId: string }) {
  const canRetry = useCan("mail.queue");
  const retry = useRetryDeferred(props.messageId);
  if (!canRetry) return null;
  return (
    <div>
      <Button
        size="small"
        onClick={() => retry.mutate()}
        disabled={retry.isPending}
        data-testid="trace-retry"
      >
        Retry now
      </Button>{" "}
      {retry.data ? (
        <Text size={200} role="status">
          {retry.data.retried === 0 ? "Nothing of it was deferred any more." : "It will be tried now."}
        </Text>
      ) : null}
      {retry.isError ? <Text role="alert">{asApiError(retry.error).message}</Text> : null}
    </div>
  );
}
