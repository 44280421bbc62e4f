import { makeStyles, Text, tokens } from "@fluentui/react-components";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { securityPhraseBody } from "../../../../shared/schemas/me";
import { asApiError } from "../../../api/errors";
import { ErrorState, LoadingState } from "../../components/states";
import { useApi, useApp } from "../../context";
import { OrganisationDomains } from "./OrganisationDomains";
import { OrganisationSettings } from "./OrganisationSettings";
import { SmtpPasswords } from "./SmtpPasswords";
import { TeamsAndPartners } from "./TeamsAndPartners";
import { TotpEnrolment } from "./TotpEnrolment";
import { OneFieldForm, SettingsSection } from "./parts";

const useStyles = makeStyles({
  view: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalXL, maxWidth: "640px" },
});

function SecurityPhrase(props: { current: string | null }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [phrase, setPhrase] = useState(props.current ?? "");
  const [invalid, setInvalid] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (value: string) => api.settings.setSecurityPhrase({ phrase: value }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["settings"] }),
  });
  const submit = () => {
    const parsed = securityPhraseBody.safeParse({ phrase });
    setInvalid(parsed.success ? null : "Use 3 to 64 characters, without angle brackets or line breaks.");
    if (parsed.success) save.mutate(parsed.data.phrase);
  };
  return (
    <SettingsSection id="phrase-title" title="Security phrase">
      <Text size={200}>
        Mailward shows this phrase in every quarantine digest it sends you. A notice without it is not from
        Mailward.
      </Text>
      <OneFieldForm
        label="Your phrase"
        value={phrase}
        onChange={setPhrase}
        invalid={invalid}
        onSubmit={submit}
        busy={save.isPending}
        submitLabel="Save"
        primary
        fieldTestId="security-phrase"
        submitTestId="security-phrase-save"
      />
      {save.isSuccess ? <Text role="status">Saved.</Text> : null}
      {save.isError ? <Text role="alert">{asApiError(save.error).message}</Text> : null}
    </SettingsSection>
  );
}

/**
 * "Settings": the digest security phrase, TOTP enrolment for local accounts, SMTP passwords, and for those who may
 * read the policies, the organisation's settings; for tenant admins, its mail domains, teams and partner groups.
 */
export function SettingsView() {
  const api = useApi();
  const { me } = useApp();
  const styles = useStyles();
  const settings = useQuery({ queryKey: ["settings"], queryFn: () => api.settings.get() });
  return (
    <div className={styles.view}>
      <Text as="h2" size={400} weight="semibold">
        Settings
      </Text>
      {me ? (
        <Text size={200}>
          Signed in as {me.displayName} ({me.email})
        </Text>
      ) : null}
      {settings.isPending ? <LoadingState label="Loading settings…" /> : null}
      {settings.isError ? (
        <ErrorState error={settings.error} onRetry={() => void settings.refetch()} />
      ) : null}
      {settings.data ? (
        <>
          <SecurityPhrase current={settings.data.securityPhrase} />
          {settings.data.authMethod === "local" ? (
            <TotpEnrolment enabled={settings.data.totpEnabled} />
          ) : (
            <Text size={200}>Your organisation's Microsoft sign-in handles two-step verification.</Text>
          )}
          <SmtpPasswords />
          <OrganisationSettings />
          <OrganisationDomains />
          <TeamsAndPartners />
        </>
      ) : null}
    </div>
  );
}
