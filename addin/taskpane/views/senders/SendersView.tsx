import {
  Button,
  Field,
  Input,
  makeStyles,
  MessageBar,
  MessageBarBody,
  Select,
  Text,
  tokens,
} from "@fluentui/react-components";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { senderPatternType, type SenderKind, type SenderRule } from "../../../../shared/schemas/senders";
import { asApiError } from "../../../api/errors";
import { forgetLastActionFor } from "../../../office/lastAction";
import { formatDate, timeUntil } from "../../components/format";
import { EmptyState, ErrorState, LoadingState } from "../../components/states";
import { Tabs } from "../../components/Tabs";
import { useApi, useCan } from "../../context";
import { cursorPaging } from "../../cursor-paging";

const EXPIRY_CHOICES = [
  { value: "never", label: "Never expires", days: null },
  { value: "1", label: "1 day", days: 1 },
  { value: "7", label: "7 days", days: 7 },
  { value: "30", label: "30 days", days: 30 },
  { value: "90", label: "90 days", days: 90 },
] as const;

const useStyles = makeStyles({
  form: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS, alignItems: "flex-end" },
  patternField: { flexGrow: 1, minWidth: "180px" },
  list: { listStyle: "none", margin: 0, padding: 0 },
  row: {
    display: "flex",
    alignItems: "center",
    gap: tokens.spacingHorizontalS,
    padding: `${tokens.spacingVerticalS} 0`,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  pattern: { flexGrow: 1, minWidth: 0, overflowWrap: "anywhere" },
  section: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalM },
});

/**
 * Turns what a person types into a pattern the API accepts: trims, lower-cases, drops a leading "@",
 * and converts a Unicode domain to punycode. Returns null when it is not an address, domain or *.domain.
 */
export function normalizeSenderPattern(input: string): string | null {
  let value = input.trim().toLowerCase().replace(/^@/, "");
  if (value === "") return null;
  const at = value.lastIndexOf("@");
  const wildcard = value.startsWith("*.");
  const domain = at >= 0 ? value.slice(at + 1) : wildcard ? value.slice(2) : value;
  try {
    const ascii = new URL(`http://${domain}`).hostname;
    value = at >= 0 ? `${value.slice(0, at + 1)}${ascii}` : wildcard ? `*.${ascii}` : ascii;
  } catch {
    return null;
  }
  return senderPatternType(value) === null ? null : value;
}

function AddSenderForm(props: { defaultKind: SenderKind }) {
  const api = useApi();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const [pattern, setPattern] = useState("");
  const [kind, setKind] = useState<SenderKind>(props.defaultKind);
  const [expiry, setExpiry] = useState<string>("never");
  const [invalid, setInvalid] = useState(false);
  const create = useMutation({
    mutationFn: (body: { pattern: string; kind: SenderKind; expiresAt?: string }) => api.senders.create(body),
    onSuccess: () => {
      setPattern("");
      void queryClient.invalidateQueries({ queryKey: ["senders"] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const normalized = normalizeSenderPattern(pattern);
    setInvalid(normalized === null);
    if (normalized === null) return;
    const days = EXPIRY_CHOICES.find((choice) => choice.value === expiry)?.days ?? null;
    const expiresAt = days === null ? undefined : new Date(Date.now() + days * 86_400_000).toISOString();
    create.mutate({ pattern: normalized, kind, expiresAt });
  };
  return (
    <form className={styles.form} onSubmit={submit} aria-label="Add a sender rule" noValidate>
      <Field
        className={styles.patternField}
        label="Address or domain"
        validationState={invalid ? "error" : "none"}
        validationMessage={invalid ? "Use an address (a@b.com), a domain (b.com) or *.b.com." : undefined}
      >
        <Input
          value={pattern}
          onChange={(_e, data) => setPattern(data.value)}
          placeholder="name@example.com or example.com"
          data-testid="sender-add-pattern"
        />
      </Field>
      <Field label="Rule">
        <Select
          value={kind}
          onChange={(_e, data) => setKind(data.value as SenderKind)}
          data-testid="sender-add-kind"
        >
          <option value="block">Block</option>
          <option value="permit">Permit</option>
        </Select>
      </Field>
      <Field label="Expires">
        <Select value={expiry} onChange={(_e, data) => setExpiry(data.value)} data-testid="sender-add-expiry">
          {EXPIRY_CHOICES.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
        </Select>
      </Field>
      <Button type="submit" appearance="primary" disabled={create.isPending} data-testid="sender-add-submit">
        Add
      </Button>
      {create.isError ? (
        <MessageBar intent="error" role="alert" data-testid="sender-add-error" style={{ flexBasis: "100%" }}>
          <MessageBarBody>{asApiError(create.error).message}</MessageBarBody>
        </MessageBar>
      ) : null}
    </form>
  );
}

function SenderRow(props: { rule: SenderRule; canManage: boolean }) {
  const api = useApi();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const { rule } = props;
  const remove = useMutation({
    mutationFn: () => api.senders.remove(rule.id),
    onSuccess: () => {
      forgetLastActionFor(rule.id);
      void queryClient.invalidateQueries({ queryKey: ["senders"] });
    },
  });
  const verb = rule.kind === "block" ? "block" : "permit";
  return (
    <li className={styles.row} data-testid="sender-row" data-pattern={rule.pattern}>
      <div className={styles.pattern}>
        <Text weight="semibold" block>
          {rule.pattern}
        </Text>
        <Text size={200}>
          {rule.expiresAt
            ? `Expires ${timeUntil(rule.expiresAt)} (${formatDate(rule.expiresAt)})`
            : "Never expires"}
        </Text>
        {remove.isError ? (
          <Text
            size={200}
            role="alert"
            style={{ color: tokens.colorPaletteRedForeground1, display: "block" }}
          >
            {asApiError(remove.error).message}
          </Text>
        ) : null}
      </div>
      {props.canManage && rule.scope === "user" ? (
        <Button
          size="small"
          disabled={remove.isPending}
          onClick={() => remove.mutate()}
          aria-label={`Remove ${verb} rule for ${rule.pattern}`}
          data-testid="sender-remove"
        >
          Remove
        </Button>
      ) : null}
    </li>
  );
}

/** "Senders": my block and permit lists, with add (and expiry) and remove. */
export function SendersView() {
  const api = useApi();
  const styles = useStyles();
  const canManage = useCan("senders.manage_own");
  const [kind, setKind] = useState<SenderKind>("block");
  const list = useInfiniteQuery({
    queryKey: ["senders", kind],
    queryFn: ({ pageParam }) => api.senders.list({ kind, cursor: pageParam, limit: 50 }),
    ...cursorPaging,
  });
  const rules = list.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section className={styles.section} aria-labelledby="senders-title">
      <Text as="h2" size={400} weight="semibold" id="senders-title">
        My sender lists
      </Text>
      {canManage ? <AddSenderForm key={kind} defaultKind={kind} /> : null}
      <Tabs
        label="Sender list"
        selected={kind}
        onSelect={setKind}
        items={[
          { value: "block", content: "Blocked", testId: "senders-tab-block" },
          { value: "permit", content: "Permitted", testId: "senders-tab-permit" },
        ]}
      />
      {list.isPending ? <LoadingState label="Loading senders…" /> : null}
      {list.isError ? <ErrorState error={list.error} onRetry={() => void list.refetch()} /> : null}
      {list.isSuccess && rules.length === 0 ? (
        <EmptyState
          title={kind === "block" ? "You haven't blocked anyone" : "You haven't permitted anyone"}
          hint="Add an address or a domain above, or use Block sender in Outlook."
        />
      ) : null}
      {rules.length > 0 ? (
        <ul
          className={styles.list}
          data-testid="sender-list"
          aria-label={kind === "block" ? "Blocked senders" : "Permitted senders"}
        >
          {rules.map((rule) => (
            <SenderRow key={rule.id} rule={rule} canManage={canManage} />
          ))}
        </ul>
      ) : null}
      {list.hasNextPage ? (
        <Button onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          Load more
        </Button>
      ) : null}
    </section>
  );
}
