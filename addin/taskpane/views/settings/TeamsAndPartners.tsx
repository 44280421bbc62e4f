import { Field, makeStyles, Select, Text, tokens } from "@fluentui/react-components";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { groupName, type PartnerGroup, type Team } from "../../../../shared/schemas/organisation";
import { asApiError } from "../../../api/errors";
import { countOf } from "../../components/format";
import { PagedList } from "../../components/PagedList";
import { useApi, useCan } from "../../context";
import { GroupRow, NAME_RULE } from "./GroupRow";
import { OneFieldForm, SettingsSection, useSettingsListStyles } from "./parts";
import { cursorPaging } from "../../cursor-paging";

const PARTNERS_KEY = ["admin", "partners"] as const;
const TEAMS_KEY = ["admin", "teams"] as const;
const IN_HOUSE = "";

const useStyles = makeStyles({
  part: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
});

/** "3 people · 2 teams". */
const partnerSummary = (p: PartnerGroup) =>
  `${countOf(p.members, "person", "people")} · ${countOf(p.teams, "team")}`;

/** "Acme · 4 people · led by lee@…" (in-house when no partner group). */
function teamSummary(t: Team): string {
  const leads = t.leads.map((l) => l.displayName || l.email).join(", ");
  return [
    t.partner ? t.partner.name : "In-house",
    countOf(t.members, "person", "people"),
    leads ? `led by ${leads}` : "no lead",
  ].join(" · ");
}

/** The rows of a loaded list of teams or partner groups, each with its data attributes for tests. */
function GroupList<T extends { id: string; name: string }>(props: {
  items: T[];
  kind: "team" | "partner";
  renderItem: (item: T) => ReactNode;
}) {
  const styles = useSettingsListStyles();
  return (
    <ul className={styles.list}>
      {props.items.map((item) => (
        <li key={item.id} className={styles.item} data-testid={`${props.kind}-row`} data-name={item.name}>
          {props.renderItem(item)}
        </li>
      ))}
    </ul>
  );
}

/** A name field and its button: adds a partner group or a team, with the server's refusal shown under it. */
function useAdd<T>(add: (name: string) => Promise<T>, refresh: () => void) {
  const [name, setName] = useState("");
  const [invalid, setInvalid] = useState<string | null>(null);
  const mutation = useMutation({
    mutationFn: add,
    onSuccess: () => {
      setName("");
      refresh();
    },
  });
  const submit = () => {
    const parsed = groupName.safeParse(name);
    setInvalid(parsed.success ? null : NAME_RULE);
    if (parsed.success) mutation.mutate(parsed.data);
  };
  return { name, setName, invalid, submit, mutation };
}

/**
 * "Teams and partner groups": the BPO partner groups and teams people are placed in (a team's lead sees and releases
 * its members' held mail; a partner admin manages their group's people). Tenant admins add, rename and delete them
 * here; absent for everyone else.
 */
export function TeamsAndPartners() {
  const api = useApi();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const canManage = useCan("users.manage");
  // Paged by name: an organisation of hundreds of teams is not loaded whole on each opening of Settings.
  const partners = useInfiniteQuery({
    queryKey: PARTNERS_KEY,
    queryFn: ({ pageParam }) => api.admin.partners({ cursor: pageParam }),
    ...cursorPaging,
    enabled: canManage,
  });
  const teams = useInfiniteQuery({
    queryKey: TEAMS_KEY,
    queryFn: ({ pageParam }) => api.admin.teams({ cursor: pageParam }),
    ...cursorPaging,
    enabled: canManage,
  });
  const loadedPartners = partners.data?.pages.flatMap((page) => page.items) ?? [];
  // A change to either shows in both: a team's partner group name, a partner group's team count.
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: PARTNERS_KEY });
    void queryClient.invalidateQueries({ queryKey: TEAMS_KEY });
  };
  const [teamPartner, setTeamPartner] = useState(IN_HOUSE);
  const addPartner = useAdd((name) => api.admin.addPartner({ name }), refresh);
  const addTeam = useAdd(
    (name) => api.admin.addTeam({ name, partnerId: teamPartner === IN_HOUSE ? null : teamPartner }),
    refresh,
  );
  if (!canManage) return null;
  return (
    <SettingsSection id="groups-title" title="Teams and partner groups">
      <Text size={200}>
        A team's lead sees and releases its members' held mail. A partner group holds an outsourcing partner's
        people, whom its partner admin manages. Place people in them when you invite them. A team or partner
        group can be deleted once nothing is left in it.
      </Text>
      <div className={styles.part}>
        <Text as="h4" weight="semibold">
          Partner groups
        </Text>
        <OneFieldForm
          label="New partner group"
          value={addPartner.name}
          onChange={addPartner.setName}
          invalid={addPartner.invalid}
          onSubmit={addPartner.submit}
          busy={addPartner.mutation.isPending}
          submitLabel="Add partner group"
          fieldTestId="partner-name"
          submitTestId="partner-add"
        />
        {addPartner.mutation.isError ? (
          <Text role="alert">{asApiError(addPartner.mutation.error).message}</Text>
        ) : null}
        <PagedList
          query={partners}
          loadingLabel="Loading partner groups…"
          empty={{ title: "No partner group yet.", testId: "partner-none" }}
          more={{ label: "More partner groups", testId: "partner-more" }}
        >
          {(items) => (
            <GroupList
              kind="partner"
              items={items}
              renderItem={(p) => (
                <GroupRow
                  kind="partner"
                  name={p.name}
                  summary={partnerSummary(p)}
                  onChanged={refresh}
                  rename={(name) => api.admin.renamePartner(p.id, { name })}
                  remove={() => api.admin.removePartner(p.id)}
                />
              )}
            />
          )}
        </PagedList>
      </div>
      <div className={styles.part}>
        <Text as="h4" weight="semibold">
          Teams
        </Text>
        <Field label="Partner group of a new team">
          <Select
            value={teamPartner}
            onChange={(_e, data) => setTeamPartner(data.value)}
            data-testid="team-partner"
          >
            <option value={IN_HOUSE}>In-house</option>
            {loadedPartners.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </Select>
        </Field>
        <OneFieldForm
          label="New team"
          value={addTeam.name}
          onChange={addTeam.setName}
          invalid={addTeam.invalid}
          onSubmit={addTeam.submit}
          busy={addTeam.mutation.isPending}
          submitLabel="Add team"
          fieldTestId="team-name"
          submitTestId="team-add"
        />
        {addTeam.mutation.isError ? (
          <Text role="alert">{asApiError(addTeam.mutation.error).message}</Text>
        ) : null}
        <PagedList
          query={teams}
          loadingLabel="Loading teams…"
          empty={{ title: "No team yet.", testId: "team-none" }}
          more={{ label: "More teams", testId: "team-more" }}
        >
          {(items) => (
            <GroupList
              kind="team"
              items={items}
              renderItem={(t) => (
                <GroupRow
                  kind="team"
                  name={t.name}
                  summary={teamSummary(t)}
                  onChanged={refresh}
                  rename={(name) => api.admin.renameTeam(t.id, { name })}
                  remove={() => api.admin.removeTeam(t.id)}
                />
              )}
            />
          )}
        </PagedList>
      </div>
    </SettingsSection>
  );
}
