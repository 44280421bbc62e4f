import {
  Button,
  Field,
  Input,
  makeStyles,
  MessageBar,
  MessageBarBody,
  Text,
  tokens,
} from "@fluentui/react-components";
import { useState, type FormEvent } from "react";
import type { MailwardApi } from "../../api/endpoints";
import { ApiError, asApiError } from "../../api/errors";

const useStyles = makeStyles({
  form: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalM,
    maxWidth: "360px",
    margin: "0 auto",
    padding: tokens.spacingHorizontalL,
  },
});

/**
 * The portal's local sign-in: email and password, then the authenticator code when the server answers
 * `mfa_required`. The session cookie is set by the server; the CSRF token is remembered by the API client.
 */
export function SignIn(props: { api: MailwardApi; onSignedIn: () => void }) {
  const styles = useStyles();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [totp, setTotp] = useState("");
  const [needsCode, setNeedsCode] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await props.api.auth.login({
        email: email.trim(),
        password,
        totp: needsCode ? totp.trim() : undefined,
      });
      props.onSignedIn();
    } catch (caught) {
      const failure = asApiError(caught);
      if (failure.id === "mfa_required") {
        setNeedsCode(true);
      } else {
        setError(failure);
        if (failure.id === "invalid_mfa_code") setTotp("");
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main>
      <form
        className={styles.form}
        onSubmit={(event) => void submit(event)}
        aria-labelledby="signin-title"
        noValidate
      >
        <Text as="h1" size={500} weight="semibold" id="signin-title">
          Sign in to Mailward
        </Text>
        {error ? (
          <MessageBar intent="error" role="alert" data-testid="signin-error" data-error-id={error.id}>
            <MessageBarBody>{error.message}</MessageBarBody>
          </MessageBar>
        ) : null}
        <Field label="Email" required>
          <Input
            type="email"
            autoComplete="username"
            value={email}
            onChange={(_e, data) => setEmail(data.value)}
            data-testid="signin-email"
            disabled={needsCode}
          />
        </Field>
        <Field label="Password" required>
          <Input
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(_e, data) => setPassword(data.value)}
            data-testid="signin-password"
            disabled={needsCode}
          />
        </Field>
        {needsCode ? (
          <Field label="Authenticator code" hint="The 6-digit code from your authenticator app." required>
            <Input
              inputMode="numeric"
              autoComplete="one-time-code"
              value={totp}
              onChange={(_e, data) => setTotp(data.value)}
              data-testid="signin-totp"
              autoFocus
            />
          </Field>
        ) : null}
        <Button
          type="submit"
          appearance="primary"
          disabled={busy || !email || !password}
          data-testid="signin-submit"
        >
          {busy ? "Signing in…" : needsCode ? "Verify" : "Sign in"}
        </Button>
      </form>
    </main>
  );
}
