import {
  Button,
  makeStyles,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Text,
  tokens,
} from "@fluentui/react-components";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import {
  smtpPasswordBody,
  type SmtpPassword,
  type SmtpPasswordCreated,
} from "../../../../shared/schemas/smtp-passwords";
import { asApiError } from "../../../api/errors";
import { formatDateTime } from "../../components/format";
import { useApi } from "../../context";
import { OneFieldForm, SettingsList, SettingsSection, useSettingsListStyles } from "./parts";
import { StepUpError } from "./StepUp";

const useStyles = makeStyles({
  row: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS, alignItems: "flex-end" },
  line: { margin: 0 },
  created: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalXS,
    marginTop: tokens.spacingVerticalXS,
  },
  secret: {
    fontFamily: tokens.fontFamilyMonospace,
    fontSize: tokens.fontSizeBase400,
    overflowWrap: "anywhere",
  },
});

/** The query of the person's SMTP passwords (turning TOTP on revokes them, so it refreshes the list too). */
export const SMTP_PASSWORDS_QUERY_KEY = ["smtp-passwords"];

/** The new password, shown once: Mailward keeps only its hash. */
function NewPassword(props: { created: SmtpPasswordCreated; onDone: () => void }) {
  const styles = useStyles();
  const [copied, setCopied] = useState(false);
  const copy = () => {
    void navigator.clipboard?.writeText(props.created.password).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <MessageBar intent="success" layout="multiline" data-testid="smtp-password-created">
      <MessageBarBody>
        <MessageBarTitle>Password for “{props.created.label}”</MessageBarTitle>
        <div className={styles.created}>
          <Text as="p" block className={styles.line}>
            User name: <span className={styles.secret}>{props.created.username}</span>
          </Text>
          <Text as="p" block className={styles.line}>
            Password:{" "}
            <span className={styles.secret} data-testid="smtp-password-secret">
              {props.created.password}
            </span>
          </Text>
          <Text as="p" block className={styles.line} size={200}>
            Enter it in the app or device now: Mailward will not show it again.
          </Text>
          <div className={styles.row}>
            <Button size="small" onClick={copy}>
              {copied ? "Copied" : "Copy password"}
            </Button>
            <Button size="small" appearance="primary" onClick={props.onDone} data-testid="smtp-password-done">
              Done
            </Button>
          </div>
        </div>
      </MessageBarBody>
    </MessageBar>
  );
}

/** One password's row: its name, when it was made and last used, and Revoke. */
function PasswordRow(props: { item: SmtpPassword }) {
  const api = useApi();
  const styles = useSettingsListStyles();
  const queryClient = useQueryClient();
  const revoke = useMutation({
    mutationFn: () => api.settings.revokeSmtpPassword(props.item.id),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: SMTP_PASSWORDS_QUERY_KEY }),
  });
  const { item } = props;
  return (
    <>
      <div>
        <Text block weight="semibold">
          {item.label}
        </Text>
        <Text as="p" block className={styles.line} size={200}>
          Created {formatDateTime(item.createdAt)} ·{" "}
          {item.lastUsedAt ? `last used ${formatDateTime(item.lastUsedAt)}` : "never used"}
        </Text>
        {revoke.isError ? <Text role="alert">{asApiError(revoke.error).message}</Text> : null}
      </div>
      <Button
        size="small"
        onClick={() => revoke.mutate()}
        disabled={revoke.isPending}
        aria-label={`Revoke ${item.label}`}
        data-testid="smtp-password-revoke"
      >
        Revoke
      </Button>
    </>
  );
}

/**
 * "SMTP passwords": one per app or device that sends mail through the gateway with the person's
 * address (a scanner, a CRM, a mail program while Microsoft 365 is down). Created here, shown once,
 * revoked here; the account password does not work over SMTP once two-step sign-in is on.
 */
export function SmtpPasswords() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [label, setLabel] = useState("");
  const [invalid, setInvalid] = useState<string | null>(null);
  const list = useQuery({ queryKey: SMTP_PASSWORDS_QUERY_KEY, queryFn: () => api.settings.smtpPasswords() });
  const create = useMutation({
    mutationFn: (value: string) => api.settings.createSmtpPassword({ label: value }),
    onSuccess: () => {
      setLabel("");
      void queryClient.invalidateQueries({ queryKey: SMTP_PASSWORDS_QUERY_KEY });
    },
  });
  const submit = () => {
    const parsed = smtpPasswordBody.safeParse({ label });
    setInvalid(parsed.success ? null : "Name it in 1 to 64 characters, without angle brackets.");
    if (parsed.success) create.mutate(parsed.data.label);
  };
  return (
    <SettingsSection id="smtp-title" title="SMTP passwords">
      <Text size={200}>
        Apps and devices that send mail through Mailward with your address (a scanner, a CRM, a mail program)
        sign in with your address and one of these passwords. Make one per device, so you can revoke it alone
        when the device is gone.
      </Text>
      {create.data ? <NewPassword created={create.data} onDone={() => create.reset()} /> : null}
      <OneFieldForm
        label="What it is for"
        value={label}
        onChange={setLabel}
        invalid={invalid}
        onSubmit={submit}
        busy={create.isPending}
        submitLabel="Create password"
        placeholder="Office scanner"
        fieldTestId="smtp-password-label"
        submitTestId="smtp-password-create"
      />
      {create.isError ? (
        <StepUpError
          error={create.error}
          need="a new SMTP password"
          then="create it"
          testId="smtp-password"
        />
      ) : null}
      <SettingsList
        query={list}
        loadingLabel="Loading SMTP passwords…"
        emptyText="You have no SMTP passwords."
        emptyTestId="smtp-password-none"
        itemKey={(item) => item.id}
        rowAttributes={(item) => ({ "data-testid": "smtp-password-row", "data-label": item.label })}
        renderItem={(item) => <PasswordRow item={item} />}
      />
    </SettingsSection>
  );
}
