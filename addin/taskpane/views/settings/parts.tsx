import { Button, Field, Input, makeStyles, Text, tokens } from "@fluentui/react-components";
import type { UseQueryResult } from "@tanstack/react-query";
import type { FormEvent, ReactNode } from "react";
import { ErrorState, LoadingState } from "../../components/states";

const useStyles = makeStyles({
  section: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  row: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS, alignItems: "flex-end" },
});

/** The rows of a Settings list (SMTP passwords, mail domains): what it is on the left, its button on the right. */
export const useSettingsListStyles = makeStyles({
  list: { listStyleType: "none", margin: 0, padding: 0, display: "flex", flexDirection: "column" },
  item: {
    display: "flex",
    alignItems: "center",
    justifyContent: "space-between",
    gap: tokens.spacingHorizontalS,
    paddingBlock: tokens.spacingVerticalXS,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  line: { margin: 0 },
});

/** What a Settings list shows: its query, what it says while loading and when empty, and each item's row. */
export interface SettingsListProps<T> {
  query: UseQueryResult<{ items: T[] }>;
  loadingLabel: string;
  emptyText: string;
  emptyTestId: string;
  itemKey: (item: T) => string;
  /** The row's data attributes (its test id and what tests find it by). */
  rowAttributes: (item: T) => Record<`data-${string}`, string>;
  /** The row's content: what it is, then its button. */
  renderItem: (item: T) => ReactNode;
}

/** A list of Settings rows with its loading, error (with retry) and empty states. */
export function SettingsList<T>(props: SettingsListProps<T>) {
  const styles = useSettingsListStyles();
  const { query } = props;
  if (query.isPending) return <LoadingState label={props.loadingLabel} />;
  if (query.isError) return <ErrorState error={query.error} onRetry={() => void query.refetch()} />;
  if (query.data.items.length === 0)
    return (
      <Text size={200} data-testid={props.emptyTestId}>
        {props.emptyText}
      </Text>
    );
  return (
    <ul className={styles.list}>
      {query.data.items.map((item) => (
        <li key={props.itemKey(item)} className={styles.item} {...props.rowAttributes(item)}>
          {props.renderItem(item)}
        </li>
      ))}
    </ul>
  );
}

/** One titled section of Settings (security phrase, authenticator app, SMTP passwords). */
export function SettingsSection(props: { id: string; title: string; children: ReactNode }) {
  const styles = useStyles();
  return (
    <section className={styles.section} aria-labelledby={props.id}>
      <Text as="h3" weight="semibold" id={props.id}>
        {props.title}
      </Text>
      {props.children}
    </section>
  );
}

/** What a one-field form shows and does. */
export interface OneFieldFormProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** The field's validation message, or null when it is valid. */
  invalid: string | null;
  onSubmit: () => void;
  busy: boolean;
  submitLabel: string;
  primary?: boolean;
  placeholder?: string;
  fieldTestId: string;
  submitTestId: string;
  /** The on-screen keyboard and autofill the field asks for (an authenticator's code: numeric, one-time-code). */
  inputMode?: "numeric" | "text";
  autoComplete?: string;
  /** False keeps the button off until the value is whole (default true). */
  canSubmit?: boolean;
}

/** A text field and its button on one row, with the field's validation message: how Settings takes a value. */
export function OneFieldForm(props: OneFieldFormProps) {
  const styles = useStyles();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onSubmit();
  };
  return (
    <form className={styles.row} onSubmit={submit}>
      <Field
        label={props.label}
        validationState={props.invalid ? "error" : "none"}
        validationMessage={props.invalid ?? undefined}
        style={{ flexGrow: 1 }}
      >
        <Input
          value={props.value}
          placeholder={props.placeholder}
          inputMode={props.inputMode}
          autoComplete={props.autoComplete}
          onChange={(_e, data) => props.onChange(data.value)}
          data-testid={props.fieldTestId}
        />
      </Field>
      <Button
        type="submit"
        appearance={props.primary ? "primary" : "secondary"}
        disabled={props.busy || props.canSubmit === false}
        data-testid={props.submitTestId}
      >
        {props.submitLabel}
      </Button>
    </form>
  );
}
