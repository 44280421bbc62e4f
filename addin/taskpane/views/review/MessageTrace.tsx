import { Badge, Button, Field, Input, makeStyles, Select, Text, tokens } from "@fluentui/react-components";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { z } from "zod";
import { TRACE_STATUSES, type traceItem, type traceRecipient } from "../../../../shared/schemas/trace";
import { formatDateTime, REASON_LABELS, STATUS_LABELS } from "../../components/format";
import { PagedList } from "../../components/PagedList";
import { useApi } from "../../context";
import { QueueStatus, RetryMessage } from "./QueueStatus";
import { DirectoryStatus } from "./DirectoryStatus";
import { cursorPaging } from "../../cursor-paging";

type TracedMessage = z.infer<typeof traceItem>;
type TracedRecipient = z.infer<typeof traceRecipient>;
type TraceStatus = (typeof TRACE_STATUSES)[number];

/** What the administrator asked about: all optional (the last week by default). */
interface TraceFilters {
  sender?: string;
  recipient?: string;
  messageId?: string;
  status?: TraceStatus;
}

const STATUS_CHOICES: Record<TraceStatus, string> = {
  held: "Held now",
  waiting: "Waiting to be delivered",
  delivered: "Delivered",
  bounced: "Bounced",
};

const useStyles = makeStyles({
  column: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS, minWidth: 0 },
  form: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS, alignItems: "end" },
  list: { listStyle: "none", margin: 0, padding: 0 },
  row: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalXXS,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalXS}`,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    overflowWrap: "anywhere",
  },
  recipients: { margin: 0, paddingLeft: tokens.spacingHorizontalL },
});

/** What the delivery to the next hop says now, in words; and what Microsoft 365 was told, when it was not "clean". */
function deliveryText(d: NonNullable<TracedRecipient["delivery"]>): string {
  if (d.state === "delivered") {
    const told = d.relayedAs && d.relayedAs !== "clean" ? ` (marked ${d.relayedAs} for Microsoft 365)` : "";
    return `Delivered to the next hop${d.deliveredAt ? ` at ${formatDateTime(d.deliveredAt)}` : ""}${d.lastResponse ? `: ${d.lastResponse}` : ""}${told}`;
  }
  if (d.state === "bounced") return `Bounced: ${d.lastError ?? "refused by the next hop"}`;
  const retry = d.nextAttemptAt ? `, next try ${formatDateTime(d.nextAttemptAt)}` : "";
  return `Waiting (${d.state}, ${d.attempts} attempt${d.attempts === 1 ? "" : "s"}${retry})${d.lastError ? `: ${d.lastError}` : ""}`;
}

/** One recipient's outcome in words: the verdict or the hold, then the delivery (a released hold has both). */
export function recipientOutcome(r: TracedRecipient): string {
  const reason = r.reason ? ` (${REASON_LABELS[r.reason] ?? r.reason})` : "";
  const delivery = r.delivery ? deliveryText(r.delivery) : null;
  if (r.held) {
    const held = `Held${reason}: ${STATUS_LABELS[r.held.status] ?? r.held.status}`;
    return delivery ? `${held}; ${delivery}` : held;
  }
  if (r.verdict === "reject") return `Refused at the gateway${reason}`;
  if (delivery) return delivery;
  return r.verdict === "deliver" ? "Accepted (not relayed: archive or mailbox only)" : "No verdict recorded";
}

/** Green when it reached the next hop or was accepted, amber when held, refused or bounced, blue while waiting. */
function badgeColor(r: TracedRecipient): "success" | "warning" | "informative" {
  if (r.held?.status === "held" || r.verdict === "reject" || r.delivery?.state === "bounced")
    return "warning";
  if (r.delivery && r.delivery.state !== "delivered") return "informative";
  if (r.held && !r.delivery) return "warning";
  return "success";
}

/** How a signed-in sender authenticated, in words: the SMTP password's label names the device. */
export function submittedWithText(credential: NonNullable<TracedMessage["submittedWith"]>): string {
  if (credential.kind === "account_password") return "signed in with the account password";
  return `signed in with SMTP password “${credential.label ?? "?"}”`;
}

function TracedRow(props: { message: TracedMessage }) {
  const styles = useStyles();
  const m = props.message;
  return (
    <li className={styles.row} data-testid="trace-row" data-message-id={m.id}>
      <Text weight="semibold">{m.subject ?? m.internetMessageId ?? "(no Message-ID)"}</Text>
      <Text size={200}>
        {formatDateTime(m.receivedAt)} · from {m.envelopeFrom || "<>"}
        {m.from && m.from !== m.envelopeFrom ? ` (From: ${m.from})` : ""}
        {m.clientIp ? ` · ${m.clientIp}${m.tls ? " over TLS" : ""}` : ""} · {m.direction}
        {m.submittedWith ? ` · ${submittedWithText(m.submittedWith)}` : ""}
      </Text>
      <ul className={styles.recipients} aria-label="Recipients">
        {m.recipients.map((r) => (
          <li key={r.recipient} data-testid="trace-recipient">
            <Badge appearance="tint" color={badgeColor(r)}>
              {r.recipient}
            </Badge>{" "}
            <Text size={200}>{recipientOutcome(r)}</Text>
          </li>
        ))}
      </ul>
      {m.recipients.some((r) => r.delivery?.state === "deferred") ? <RetryMessage messageId={m.id} /> : null}
    </li>
  );
}

/**
 * Message trace (`mail.trace`): "did the mail from X to Y arrive?". Searches the last week by sender,
 * recipient, Message-ID or state (held now, waiting in the outbound queue, delivered, bounced) and
 * shows, per recipient, the verdict, the hold and the delivery to the next hop. Subjects appear only
 * for someone granted archive.read_any; others see the Message-ID.
 */
export function MessageTrace() {
  const api = useApi();
  const styles = useStyles();
  const [draft, setDraft] = useState<TraceFilters>({});
  const [filters, setFilters] = useState<TraceFilters | null>(null);

  const list = useInfiniteQuery({
    queryKey: ["review", "trace", filters],
    queryFn: ({ pageParam }) => api.admin.trace({ ...filters, cursor: pageParam }),
    ...cursorPaging,
    enabled: filters !== null,
  });

  const search = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = Object.fromEntries(
      Object.entries(draft).flatMap(([k, v]) => (typeof v === "string" && v.trim() ? [[k, v.trim()]] : [])),
    ) as TraceFilters;
    setFilters(trimmed);
  };
  const field = (name: "sender" | "recipient" | "messageId", label: string, placeholder: string) => (
    <Field label={label}>
      <Input
        value={draft[name] ?? ""}
        placeholder={placeholder}
        data-testid={`trace-${name}`}
        onChange={(_, data) => setDraft((d) => ({ ...d, [name]: data.value }))}
      />
    </Field>
  );

  return (
    <section className={styles.column} aria-labelledby="review-trace-title" data-testid="review-trace">
      <Text as="h2" size={400} weight="semibold" id="review-trace-title">
        Message trace
      </Text>
      <Text size={200}>What became of a message in the last week: held, delivered, waiting or bounced.</Text>
      <QueueStatus />
      <DirectoryStatus />
      <form className={styles.form} onSubmit={search} aria-label="Trace a message">
        {field("sender", "Sender", "name@example.com")}
        {field("recipient", "Recipient", "agent@your-domain")}
        {field("messageId", "Message-ID", "<id@example.com>")}
        <Field label="State">
          <Select
            value={draft.status ?? ""}
            data-testid="trace-status"
            onChange={(_, data) =>
              setDraft((d) => ({ ...d, status: (data.value || undefined) as TraceStatus | undefined }))
            }
          >
            <option value="">Any</option>
            {TRACE_STATUSES.map((status) => (
              <option key={status} value={status}>
                {STATUS_CHOICES[status]}
              </option>
            ))}
          </Select>
        </Field>
        <Button type="submit" appearance="primary" data-testid="trace-search">
          Trace
        </Button>
      </form>
      <PagedList
        query={list}
        loadingLabel="Tracing…"
        started={filters !== null}
        empty={{
          title: "No message matches",
          hint: "Check the address, or widen the search.",
          testId: "trace-empty",
        }}
        more={{ label: "Show older", testId: "trace-more" }}
      >
        {(items) => (
          <ul className={styles.list} aria-label="Traced messages">
            {items.map((m) => (
              <TracedRow key={m.id} message={m} />
            ))}
          </ul>
        )}
      </PagedList>
    </section>
  );
}
