import { Button, makeStyles, Text, tokens } from "@fluentui/react-components";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { organisationDomainBody, type OrganisationDomain } from "../../../../shared/schemas/domains";
import { asApiError } from "../../../api/errors";
import { countOf } from "../../components/format";
import { useApi, useCan } from "../../context";
import { AddedDomainNotice, DomainStatusBadge, DomainVerificationRecord } from "./DomainVerification";
import { OneFieldForm, SettingsList, SettingsSection, useSettingsListStyles } from "./parts";

const QUERY_KEY = ["admin", "domains"];

const useStyles = makeStyles({
  // The record's value is long: the text side wraps instead of pushing the buttons off a 320 px task pane.
  about: { minWidth: 0, flexGrow: 1 },
  title: { display: "flex", flexWrap: "wrap", alignItems: "center", gap: tokens.spacingHorizontalS },
  buttons: {
    display: "flex",
    flexDirection: "column",
    alignItems: "stretch",
    gap: tokens.spacingVerticalXS,
    flexShrink: 0,
  },
});

/** What takes mail in a domain, in words: "2 people · 1 other address · 0 groups". */
function domainUse(domain: OrganisationDomain): string {
  const parts = [
    countOf(domain.users, "person", "people"),
    countOf(domain.aliases, "other address", "other addresses"),
    countOf(domain.groups, "group"),
  ];
  return parts.join(" · ");
}

/**
 * One domain's row: its name and status, what takes mail in it, and Remove; a pending domain also shows the TXT
 * record to publish and Check DNS, which asks the server to look for it (the row turns Verified when it is there).
 */
function DomainRow(props: { domain: OrganisationDomain }) {
  const api = useApi();
  const styles = useSettingsListStyles();
  const own = useStyles();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api.admin.removeDomain(props.domain.domain),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: QUERY_KEY }),
  });
  const verify = useMutation({
    mutationFn: () => api.admin.verifyDomain(props.domain.domain),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: QUERY_KEY }),
  });
  const { domain } = props;
  const pending = domain.status === "pending";
  // A pending domain takes no mail yet, so nobody's mail stands on it (the server removes it whatever is in it).
  const inUse = !pending && domain.users + domain.aliases + domain.groups > 0;
  return (
    <>
      <div className={own.about}>
        <div className={own.title}>
          <Text weight="semibold">{domain.domain}</Text>
          <DomainStatusBadge status={domain.status} />
        </div>
        <Text as="p" block className={styles.line} size={200}>
          {domainUse(domain)}
        </Text>
        {pending && domain.verificationRecord ? (
          <DomainVerificationRecord domain={domain.domain} record={domain.verificationRecord} />
        ) : null}
        {verify.isError ? <Text role="alert">{asApiError(verify.error).message}</Text> : null}
        {remove.isError ? <Text role="alert">{asApiError(remove.error).message}</Text> : null}
      </div>
      <div className={own.buttons}>
        {pending ? (
          <Button
            size="small"
            appearance="primary"
            onClick={() => verify.mutate()}
            disabled={verify.isPending}
            aria-label={`Check DNS for ${domain.domain}`}
            data-testid="domain-verify"
          >
            Check DNS
          </Button>
        ) : null}
        <Button
          size="small"
          onClick={() => remove.mutate()}
          disabled={remove.isPending || inUse}
          title={inUse ? "People, other addresses or groups in it still take mail" : undefined}
          aria-label={`Remove ${domain.domain}`}
          data-testid="domain-remove"
        >
          Remove
        </Button>
      </div>
    </>
  );
}

/**
 * "Mail domains": the domains the gateway takes mail for, with the people, other addresses and groups in each.
 * Tenant admins add one here before its people's mail comes through Mailward, and remove one nobody uses any more.
 * Absent for everyone else (partner admins included: the counts are the whole organisation's).
 */
export function OrganisationDomains() {
  const api = useApi();
  const queryClient = useQueryClient();
  const canManage = useCan("users.manage");
  const [domain, setDomain] = useState("");
  const [invalid, setInvalid] = useState<string | null>(null);
  const list = useQuery({ queryKey: QUERY_KEY, queryFn: () => api.admin.domains(), enabled: canManage });
  const add = useMutation({
    mutationFn: (value: string) => api.admin.addDomain({ domain: value }),
    onSuccess: () => {
      setDomain("");
      void queryClient.invalidateQueries({ queryKey: QUERY_KEY });
    },
  });
  if (!canManage) return null;
  // The notice after adding stays until dismissed, or until Check DNS in the domain's row has verified it.
  const added = add.data;
  const addedNowVerified = list.data?.items.some(
    (d) => d.domain === added?.domain && d.status === "verified",
  );
  const submit = () => {
    const parsed = organisationDomainBody.safeParse({ domain });
    setInvalid(parsed.success ? null : "Enter a domain name, such as contoso.com.");
    if (parsed.success) add.mutate(parsed.data.domain);
  };
  return (
    <SettingsSection id="domains-title" title="Mail domains">
      <Text size={200}>
        Mailward takes mail for the people, other addresses and groups in these domains, and refuses mail for
        anyone else in them. A domain you add takes mail once your organisation has proved it holds it: by the
        DNS record shown, or, with the Microsoft Graph connector, because Microsoft 365 has verified it for
        your directory. A domain can be removed once nobody in it takes mail.
      </Text>
      <OneFieldForm
        label="Domain"
        value={domain}
        onChange={setDomain}
        invalid={invalid}
        onSubmit={submit}
        busy={add.isPending}
        submitLabel="Add domain"
        placeholder="contoso.com"
        fieldTestId="domain-name"
        submitTestId="domain-add"
      />
      {add.isError ? <Text role="alert">{asApiError(add.error).message}</Text> : null}
      {added && (added.status === "verified" || !addedNowVerified) ? (
        <AddedDomainNotice added={added} onDone={() => add.reset()} />
      ) : null}
      <SettingsList
        query={list}
        loadingLabel="Loading mail domains…"
        emptyText="Mailward takes mail for no domain yet."
        emptyTestId="domain-none"
        itemKey={(item) => item.domain}
        rowAttributes={(item) => ({ "data-testid": "domain-row", "data-domain": item.domain })}
        renderItem={(item) => <DomainRow domain={item} />}
      />
    </SettingsSection>
  );
}
