import {
  Badge,
  Button,
  makeStyles,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Text,
  tokens,
} from "@fluentui/react-components";
import { useState } from "react";
import type { OrganisationDomain } from "../../../../shared/schemas/domains";

const useStyles = makeStyles({
  record: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalXXS,
    marginTop: tokens.spacingVerticalXS,
  },
  line: { margin: 0 },
  value: {
    fontFamily: tokens.fontFamilyMonospace,
    overflowWrap: "anywhere",
    userSelect: "all",
  },
  actions: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS },
});

/** The TXT record that proves a pending domain, as the server hands it out. */
export type VerificationRecord = NonNullable<OrganisationDomain["verificationRecord"]>;

/** True where the browser lets the page write to the clipboard (secure contexts only). */
function canCopy(): boolean {
  return typeof navigator !== "undefined" && typeof navigator.clipboard?.writeText === "function";
}

/** "Verified" or "Pending: takes no mail yet", for a domain's row. */
export function DomainStatusBadge(props: { status: OrganisationDomain["status"] }) {
  return props.status === "verified" ? (
    <Badge appearance="tint" color="success" data-testid="domain-status">
      Verified
    </Badge>
  ) : (
    <Badge appearance="tint" color="warning" data-testid="domain-status">
      Pending: takes no mail yet
    </Badge>
  );
}

/** The record to publish at the DNS host: type, name and value (selectable, with Copy where the browser allows). */
export function DomainVerificationRecord(props: { domain: string; record: VerificationRecord }) {
  const styles = useStyles();
  const [copied, setCopied] = useState(false);
  const { record } = props;
  const copy = () => {
    void navigator.clipboard.writeText(record.value).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  const copyLabel = copied ? "Copied" : "Copy";
  return (
    <div className={styles.record} data-testid="domain-record">
      <Text as="p" block className={styles.line} size={200}>
        Publish this DNS record at your DNS host:
      </Text>
      <Text as="p" block className={styles.line} size={200}>
        Type: <code className={styles.value}>{record.type}</code>
      </Text>
      <Text as="p" block className={styles.line} size={200}>
        Name: <code className={styles.value}>{record.name}</code> (some DNS hosts write @ for the domain
        itself)
      </Text>
      <Text as="p" block className={styles.line} size={200}>
        Value:{" "}
        <code className={styles.value} data-testid="domain-record-value">
          {record.value}
        </code>
      </Text>
      {canCopy() ? (
        <div>
          <Button size="small" onClick={copy} aria-label={`${copyLabel} TXT value for ${props.domain}`}>
            {copyLabel}
          </Button>
        </div>
      ) : null}
    </div>
  );
}

/** What to do after adding a domain: it is pending until its TXT record is published and checked. */
export function AddedDomainNotice(props: { added: OrganisationDomain; onDone: () => void }) {
  const styles = useStyles();
  const { added } = props;
  const verified = added.status === "verified";
  return (
    <MessageBar intent={verified ? "success" : "info"} layout="multiline" data-testid="domain-added">
      <MessageBarBody>
        <MessageBarTitle>
          {verified ? `${added.domain} is verified` : `${added.domain} is pending`}
        </MessageBarTitle>
        <Text as="p" block className={styles.line}>
          {verified
            ? "Mailward takes mail for it now."
            : "Mailward takes no mail for it until your organisation proves it holds it. New DNS records can take up to an hour to appear. Mailward looks for the record every 10 minutes during the first week, or choose Check DNS next to it below."}
        </Text>
        {added.verificationRecord && !verified ? (
          <DomainVerificationRecord domain={added.domain} record={added.verificationRecord} />
        ) : null}
        <div className={styles.actions}>
          <Button size="small" onClick={props.onDone} data-testid="domain-added-done">
            Done
          </Button>
        </div>
      </MessageBarBody>
    </MessageBar>
  );
}
