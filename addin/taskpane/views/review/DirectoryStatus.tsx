import { MessageBar, MessageBarBody, MessageBarTitle, Text } from "@fluentui/react-components";
import { useQuery } from "@tanstack/react-query";
import type { z } from "zod";
import type { directoryRound } from "../../../../shared/schemas/graph";
import { asApiError } from "../../../api/errors";
import { countOf, formatDateTime } from "../../components/format";
import { useApi, useCan } from "../../context";

type DirectoryRound = z.infer<typeof directoryRound>;

const REASONS: Record<DirectoryRound["conflicts"][number]["reason"], string> = {
  address_taken: "already someone else's address in Mailward",
  address_is_alias: "another person's alias in Mailward",
};

/** The last round in one sentence: what it listed and what it changed. */
export function directorySentence(round: DirectoryRound, groupAddresses: number): string {
  const changes = [
    round.created > 0 ? `${countOf(round.created, "account")} created` : "",
    round.linked > 0 ? `${countOf(round.linked, "account")} linked` : "",
    round.updated > 0 ? `${countOf(round.updated, "account")} updated` : "",
    round.disabled > 0 ? `${countOf(round.disabled, "leaver")} disabled` : "",
    round.markedLeft > 0 ? `${countOf(round.markedLeft, "disabled account")} marked as left` : "",
    round.aliasesAdded > 0 ? `${countOf(round.aliasesAdded, "alias", "aliases")} added` : "",
    round.aliasesRemoved > 0 ? `${countOf(round.aliasesRemoved, "alias", "aliases")} removed` : "",
    round.groupAddressesAdded > 0
      ? `${countOf(round.groupAddressesAdded, "group address", "group addresses")} added`
      : "",
    round.groupAddressesRemoved > 0
      ? `${countOf(round.groupAddressesRemoved, "group address", "group addresses")} removed`
      : "",
    round.groupMembersAdded > 0 ? `${countOf(round.groupMembersAdded, "group member")} added` : "",
    round.groupMembersRemoved > 0 ? `${countOf(round.groupMembersRemoved, "group member")} removed` : "",
  ].filter(Boolean);
  return `Last round ${formatDateTime(round.at)}: ${countOf(round.listed, "person", "people")} listed; ${
    changes.length > 0 ? changes.join(", ") : "nothing to change"
  }. The gateway takes mail for ${countOf(groupAddresses, "group address", "group addresses")}.`;
}

/**
 * The directory sync (Entra ID → accounts, aliases and group addresses) for those who may read the policies:
 * its last round, and what it could not do and IT must resolve (addresses that are someone else's, leavers it
 * would not disable on its own, a listing that failed). Nothing when the sync is off.
 */
export function DirectoryStatus() {
  const api = useApi();
  const canRead = useCan("policies.read");
  const status = useQuery({
    queryKey: ["review", "directory"],
    queryFn: () => api.admin.graph(),
    enabled: canRead,
  });
  if (!canRead || status.isPending) return null;
  if (status.isError)
    return (
      <Text role="alert" size={200} data-testid="directory-error">
        The directory sync's state could not be read: {asApiError(status.error).message}
      </Text>
    );
  const { directory } = status.data;
  if (!directory.sync) return null;
  const round = directory.lastRound;
  const attention =
    round !== null && (round.failed || round.leaversWithheld > 0 || round.conflicts.length > 0);
  const intent = attention ? "warning" : "info";
  return (
    <MessageBar intent={intent} layout="multiline" data-testid="directory-status" data-intent={intent}>
      <MessageBarBody>
        <MessageBarTitle>Directory sync (Entra ID)</MessageBarTitle>
        <Text size={200}>
          {round
            ? directorySentence(round, directory.groups.length)
            : "It has not run yet in this server process."}
        </Text>
        {round?.failed ? (
          <Text size={200} as="p" data-testid="directory-failed">
            Part of the directory could not be read, so it was left as it was; the next sweep tries again.
          </Text>
        ) : null}
        {round && round.leaversWithheld > 0 ? (
          <Text size={200} as="p" data-testid="directory-withheld">
            {countOf(round.leaversWithheld, "person", "people")} missing from the directory kept their
            account: too many at once to be leavers, or the last tenant admin. Check Entra ID, then disable
            them by hand if they left.
          </Text>
        ) : null}
        {round && round.conflicts.length > 0 ? (
          <ul aria-label="Addresses the sync left out" data-testid="directory-conflicts">
            {round.conflicts.map((c) => (
              <li key={`${c.address} ${c.reason}`}>
                <Text size={200}>
                  {c.address}: {REASONS[c.reason]}
                </Text>
              </li>
            ))}
          </ul>
        ) : null}
      </MessageBarBody>
    </MessageBar>
  );
}
