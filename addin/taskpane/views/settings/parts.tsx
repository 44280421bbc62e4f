import { Button, Field, Input, makeStyles, Text, tokens } from "@fluentui/react-components";
import type { FormEvent, ReactNode } from "react";

const useStyles = makeStyles({
  section: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  row: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS, alignItems: "flex-end" },
});

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
          onChange={(_e, data) => props.onChange(data.value)}
          data-testid={props.fieldTestId}
        />
      </Field>
      <Button
        type="submit"
        appearance={props.primary ? "primary" : "secondary"}
        disabled={props.busy}
        data-testid={props.submitTestId}
      >
        {props.submitLabel}
      </Button>
    </form>
  );
}
