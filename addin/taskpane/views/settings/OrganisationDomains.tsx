import { Button, makeStyles, Text, tokens } from "@fluentui/react-components";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { organisationDomainBody, type OrganisationDomain } from "../../../../shared/schemas/domains";
import { asApiError } from "../../../api/errors";
import { countOf } from "../../components/format";
import { ErrorState, LoadingState } from "../../components/states";
import { useApi, useCan } from "../../context";
import { OneFieldForm, SettingsSection } from "./parts";

const useStyles = makeStyles({
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

const QUERY_KEY = ["admin", "domains"];

/** What takes mail in a domain, in words: "2 people · 1 other address · no groups". */
function domainUse(domain: OrganisationDomain): string {
  const parts = [
    countOf(domain.users, "person", "people"),
    countOf(domain.aliases, "other address", "other addresses"),
    countOf(domain.groups, "group"),
  ];
  return parts.join(" · ");
}

function DomainRow(props: { domain: OrganisationDomain; canChange: boolean }) {
  const api = useApi();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api.admin.removeDomain(props.domain.domain),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: QUERY_KEY }),
  });
  const { domain } = props;
  const inUse = domain.users + domain.aliases + domain.groups > 0;
  return (
    <li className={styles.item} data-testid="domain-row" data-domain={domain.domain}>
      <div>
        <Text block weight="semibold">
          {domain.domain}
        </Text>
        <Text as="p" block className={styles.line} size={200}>
          {domainUse(domain)}
        </Text>
        {remove.isError ? <Text role="alert">{asApiError(remove.error).message}</Text> : null}
      </div>
      {props.canChange ? (
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
      ) : null}
    </li>
  );
}

/**
 * "Mail domains": the domains the gateway takes mail for, with the people, other addresses and groups in each.
 * Tenant admins add one here before its people's mail comes through Mailward, and remove one nobody uses any more;
 * partner admins see them. Absent for everyone else.
 */
export function OrganisationDomains() {
  const api = useApi();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const canRead = useCan("users.read");
  const canChange = useCan("users.manage");
  const [domain, setDomain] = useState("");
  const [invalid, setInvalid] = useState<string | null>(null);
  const list = useQuery({ queryKey: QUERY_KEY, queryFn: () => api.admin.domains(), enabled: canRead });
  const add = useMutation({
    mutationFn: (value: string) => api.admin.addDomain({ domain: value }),
    onSuccess: () => {
      setDomain("");
      void queryClient.invalidateQueries({ queryKey: QUERY_KEY });
    },
  });
  if (!canRead) return null;
  const submit = () => {
    const parsed = organisationDomainBody.safeParse({ domain });
    setInvalid(parsed.success ? null : "Enter a domain name, such as contoso.com.");
    if (parsed.success) add.mutate(parsed.data.domain);
  };
  return (
    <SettingsSection id="domains-title" title="Mail domains">
      <Text size={200}>
        Mailward takes mail for the people, other addresses and groups in these domains, and refuses mail for
        anyone else in them. A domain can be removed once nobody in it takes mail.
      </Text>
      {canChange ? (
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
      ) : null}
      {add.isError ? <Text role="alert">{asApiError(add.error).message}</Text> : null}
      {list.isPending ? <LoadingState label="Loading mail domains…" /> : null}
      {list.isError ? <ErrorState error={list.error} onRetry={() => void list.refetch()} /> : null}
      {list.data && list.data.items.length === 0 ? (
        <Text size={200} data-testid="domain-none">
          Mailward takes mail for no domain yet.
        </Text>
      ) : null}
      {list.data && list.data.items.length > 0 ? (
        <ul className={styles.list}>
          {list.data.items.map((item) => (
            <DomainRow key={item.domain} domain={item} canChange={canChange} />
          ))}
        </ul>
      ) : null}
    </SettingsSection>
  );
}
