import { makeStyles, Text, tokens } from "@fluentui/react-components";
import { useQueryClient } from "@tanstack/react-query";
import { AppHeader, useAppFrameStyles } from "./components/AppHeader";
import { ME_QUERY_KEY } from "./queryClient";
import { TotpEnrolment } from "./views/settings/TotpEnrolment";

const useStyles = makeStyles({
  main: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalM,
    padding: tokens.spacingHorizontalM,
    maxWidth: "640px",
  },
});

/**
 * What a session restricted to enrolment sees (an admin role under `MAILWARD_ADMIN_TOTP=required` without an
 * authenticator yet): the enrolment itself, not views that would all be refused. Once the recovery codes are saved,
 * /api/me is asked again and the full shell follows.
 */
export function EnrolmentGate(props: { authMode: "bearer" | "cookie" }) {
  const styles = useStyles();
  const frame = useAppFrameStyles();
  const queryClient = useQueryClient();
  return (
    <div className={frame.root} data-testid="enrolment-gate">
      <AppHeader authMode={props.authMode} />
      <main className={styles.main}>
        <Text as="h2" size={500} weight="semibold">
          Set up two-step sign-in
        </Text>
        <Text>
          Your role in Mailward needs an authenticator app (Microsoft Authenticator, Google Authenticator or
          another TOTP app) before you can see mail or change settings. It takes a minute.
        </Text>
        <TotpEnrolment
          enabled={false}
          onEnrolled={() => void queryClient.invalidateQueries({ queryKey: ME_QUERY_KEY })}
        />
      </main>
    </div>
  );
}
