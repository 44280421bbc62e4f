import { Button, makeStyles, MessageBar, MessageBarBody, Text, tokens } from "@fluentui/react-components";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { asApiError } from "../../../api/errors";
import { useApi } from "../../context";
import { OneFieldForm, SettingsSection } from "./parts";
import { RecoveryCodes } from "./RecoveryCodes";
import { SMTP_PASSWORDS_QUERY_KEY } from "./SmtpPasswords";
import { StepUpError } from "./StepUp";

const useStyles = makeStyles({
  secret: { fontFamily: tokens.fontFamilyMonospace, overflowWrap: "anywhere" },
});

/** The authenticator's 6-digit code in a one-field form, its button on once the code is whole. */
function AppCodeForm(props: {
  code: string;
  onCodeChange: (code: string) => void;
  onSubmit: () => void;
  busy: boolean;
  submitLabel: string;
  primary?: boolean;
  fieldTestId: string;
  submitTestId: string;
}) {
  return (
    <OneFieldForm
      label="Code from the app"
      value={props.code}
      onChange={props.onCodeChange}
      invalid={null}
      onSubmit={props.onSubmit}
      busy={props.busy}
      submitLabel={props.submitLabel}
      primary={props.primary ?? false}
      fieldTestId={props.fieldTestId}
      submitTestId={props.submitTestId}
      inputMode="numeric"
      autoComplete="one-time-code"
      canSubmit={/^\d{6}$/.test(props.code.trim())}
    />
  );
}

/** A form that takes a current code from the app and replaces the recovery codes (the old ones stop working). */
function ReplaceRecoveryCodes(props: { onReplaced: (codes: string[]) => void }) {
  const api = useApi();
  const [code, setCode] = useState("");
  const replace = useMutation({
    mutationFn: () => api.settings.regenerateRecoveryCodes({ code: code.trim() }),
    onSuccess: (result) => {
      setCode("");
      props.onReplaced(result.recoveryCodes);
    },
  });
  return (
    <>
      <Text size={200}>
        Used some recovery codes, or lost them? Replace them with new ones: the old ones stop working.
      </Text>
      <AppCodeForm
        code={code}
        onCodeChange={setCode}
        onSubmit={() => replace.mutate()}
        busy={replace.isPending}
        submitLabel="Replace recovery codes"
        fieldTestId="recovery-replace-code"
        submitTestId="recovery-replace"
      />
      {replace.isError ? (
        <StepUpError
          error={replace.error}
          need="replacing your recovery codes"
          then="replace them"
          testId="recovery-replace"
        />
      ) : null}
    </>
  );
}

/**
 * Turning TOTP on revoked the person's SMTP passwords (made with the password alone): their devices stop sending
 * until they get new ones.
 */
function SmtpPasswordsRevoked(props: { count: number }) {
  const passwords = props.count === 1 ? "Your SMTP password was" : `Your ${props.count} SMTP passwords were`;
  return (
    <MessageBar intent="warning" layout="multiline" data-testid="totp-smtp-passwords-revoked">
      <MessageBarBody>
        {passwords} revoked, as they were made before two-step sign-in was on. Apps and devices that used them
        can no longer send mail: create new ones in Settings, under SMTP passwords.
      </MessageBarBody>
    </MessageBar>
  );
}

/**
 * "Authenticator app": TOTP enrolment for a local account (a secret and QR code, then a code to turn it on), the
 * recovery codes that come with it (shown once), and replacing them later. Starting needs a recent sign-in; a
 * session signed in too long ago gets the button that signs out and back in. `onEnrolled` runs once the person has
 * saved their recovery codes (the enrolment gate then lets them in). Turning it on revokes the person's SMTP
 * passwords; when it revoked some, they are told so.
 */
export function TotpEnrolment(props: { enabled: boolean; onEnrolled?: () => void }) {
  const api = useApi();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const [code, setCode] = useState("");
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const [smtpPasswordsRevoked, setSmtpPasswordsRevoked] = useState(0);
  const enroll = useMutation({ mutationFn: () => api.settings.enrollTotp() });
  const confirm = useMutation({
    mutationFn: () => api.settings.confirmTotp({ code: code.trim() }),
    onSuccess: (result) => {
      enroll.reset();
      setCode("");
      setRecoveryCodes(result.recoveryCodes);
      setSmtpPasswordsRevoked(result.smtpPasswordsRevoked);
      if (result.smtpPasswordsRevoked > 0)
        void queryClient.invalidateQueries({ queryKey: SMTP_PASSWORDS_QUERY_KEY });
    },
  });
  const saved = () => {
    const enrolled = !props.enabled;
    setRecoveryCodes(null);
    void queryClient.invalidateQueries({ queryKey: ["settings"] });
    if (enrolled) props.onEnrolled?.();
  };
  return (
    <SettingsSection id="totp-title" title="Authenticator app (two-step sign-in)">
      {smtpPasswordsRevoked > 0 ? <SmtpPasswordsRevoked count={smtpPasswordsRevoked} /> : null}
      {recoveryCodes ? (
        <RecoveryCodes codes={recoveryCodes} onDone={saved} />
      ) : props.enabled ? (
        <>
          <MessageBar intent="success" data-testid="totp-enabled">
            <MessageBarBody>
              Two-step sign-in is on. You&apos;ll be asked for a code when you sign in.
            </MessageBarBody>
          </MessageBar>
          <ReplaceRecoveryCodes onReplaced={setRecoveryCodes} />
        </>
      ) : enroll.data ? (
        <>
          <Text>Scan this code with your authenticator app, or enter the key by hand.</Text>
          {enroll.data.qrDataUrl ? (
            <img
              src={enroll.data.qrDataUrl}
              alt="QR code for your authenticator app"
              width={180}
              height={180}
            />
          ) : null}
          <Text className={styles.secret} data-testid="totp-secret">
            {enroll.data.secret.replace(/(.{4})/g, "$1 ").trim()}
          </Text>
          <AppCodeForm
            code={code}
            onCodeChange={setCode}
            onSubmit={() => confirm.mutate()}
            busy={confirm.isPending}
            submitLabel="Turn on"
            primary
            fieldTestId="totp-code"
            submitTestId="totp-confirm"
          />
          {confirm.isError ? <Text role="alert">{asApiError(confirm.error).message}</Text> : null}
        </>
      ) : (
        <>
          <Text size={200}>Protect your Mailward sign-in with a code from an authenticator app.</Text>
          <div>
            <Button onClick={() => enroll.mutate()} disabled={enroll.isPending} data-testid="totp-start">
              Set up authenticator
            </Button>
          </div>
          {enroll.isError ? (
            <StepUpError
              error={enroll.error}
              need="setting up an authenticator app"
              then="set it up"
              testId="totp"
            />
          ) : null}
        </>
      )}
    </SettingsSection>
  );
}
