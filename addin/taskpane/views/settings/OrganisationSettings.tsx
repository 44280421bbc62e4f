import { Button, Field, Input, makeStyles, Select, Text, tokens } from "@fluentui/react-components";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import {
  organisationSettingsChange,
  settingsImpactQuery,
  type OrganisationSettings as Settings,
  type OrganisationSettingsChange,
  type SettingsImpact,
} from "../../../../shared/schemas/settings";
import { asApiError } from "../../../api/errors";
import { formatCount, largeCountOf } from "../../components/format";
import { useApi, useCan } from "../../context";
import { SettingsSection } from "./parts";

const useStyles = makeStyles({
  grid: {
    display: "grid",
    gridTemplateColumns: "repeat(auto-fill, minmax(220px, 1fr))",
    gap: tokens.spacingHorizontalM,
  },
  actions: { display: "flex", gap: tokens.spacingHorizontalS, alignItems: "center" },
});

/** The form's fields, as typed (numbers and the digest times are text until saved). */
interface Draft {
  holdThreshold: string;
  suspectScore: string;
  orgBlockAction: Settings["orgBlockAction"];
  quarantineRetentionDays: string;
  autoPermitDays: string;
  timeZone: string;
  digestTimes: string;
}

function draftOf(s: Settings): Draft {
  return {
    holdThreshold: String(s.holdThreshold),
    suspectScore: String(s.suspectScore),
    orgBlockAction: s.orgBlockAction,
    quarantineRetentionDays: String(s.quarantineRetentionDays),
    autoPermitDays: String(s.autoPermitDays),
    timeZone: s.timeZone,
    digestTimes: s.digestTimes.join(", "),
  };
}

const asNumber = (text: string) => (text.trim() === "" ? Number.NaN : Number(text.trim()));

/** What the draft changes against the settings in effect: only the fields the person edited go to the server. */
export function changeOf(current: Settings, draft: Draft): Record<string, unknown> {
  const typed: Record<keyof Settings, unknown> = {
    holdThreshold: asNumber(draft.holdThreshold),
    suspectScore: asNumber(draft.suspectScore),
    orgBlockAction: draft.orgBlockAction,
    quarantineRetentionDays: asNumber(draft.quarantineRetentionDays),
    autoPermitDays: asNumber(draft.autoPermitDays),
    timeZone: draft.timeZone.trim(),
    digestTimes: draft.digestTimes
      .split(/[\s,;]+/)
      .filter(Boolean)
      .sort(),
  };
  return Object.fromEntries(
    Object.entries(typed).filter(
      ([key, value]) => JSON.stringify(value) !== JSON.stringify(current[key as keyof Settings]),
    ),
  );
}

/** What to say about a number the schema refused (its own messages name types, not what to enter). */
const NUMBER_HINTS: Partial<Record<keyof Draft, string>> = {
  holdThreshold: "Enter a score from 0 to 1000.",
  suspectScore: "Enter a score from 0 to 1000.",
  quarantineRetentionDays: "Enter a whole number of days from 1 to 3650.",
  autoPermitDays: "Enter a whole number of days from 1 to 3650.",
};

/** Field → the first validation message among the schema's issues with a change, for the fields that have one. */
function problemsOf(
  issues: ReadonlyArray<{ path: PropertyKey[]; code: string; message: string }>,
  change: Record<string, unknown>,
): Partial<Record<keyof Draft, string>> {
  const problems: Partial<Record<keyof Draft, string>> = {};
  for (const issue of issues) {
    const field = issue.path[0];
    if (typeof field !== "string" || !(field in change) || field in problems) continue;
    const key = field as keyof Draft;
    problems[key] = issue.code === "custom" ? issue.message : (NUMBER_HINTS[key] ?? issue.message);
  }
  return problems;
}

/** What the thresholds tried would have done to recent mail, next to the settings in effect, in one paragraph. */
export function impactSentence(i: SettingsImpact): string {
  const { proposed: p, current: c } = i;
  return (
    `In the last ${i.days} days, ${largeCountOf(i.messages, "inbound message")} had a score. ` +
    `At a hold threshold of ${p.holdThreshold} and a suspect score of ${p.suspectScore}, ${formatCount(p.held)} would ` +
    `have been held and ${formatCount(p.suspect)} marked suspect; with the settings in effect (${c.holdThreshold} and ` +
    `${c.suspectScore}), ${formatCount(c.held)} and ${formatCount(c.suspect)}. Sender rules and malware do not depend on the ` +
    `score and are not counted.`
  );
}

function Form(props: { current: Settings; canChange: boolean }) {
  const api = useApi();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(props.current));
  const [shown, setShown] = useState<Partial<Record<keyof Draft, string>>>({});
  const save = useMutation({
    mutationFn: (change: OrganisationSettingsChange) => api.admin.changeSettings(change),
    onSuccess: (saved) => {
      queryClient.setQueryData(["admin", "settings"], saved);
      setDraft(draftOf(saved));
    },
  });
  const change = changeOf(props.current, draft);
  const tried = settingsImpactQuery.safeParse({
    holdThreshold: asNumber(draft.holdThreshold),
    suspectScore: asNumber(draft.suspectScore),
  });
  const preview = useMutation({
    mutationFn: (query: { holdThreshold: number; suspectScore: number }) => api.admin.settingsImpact(query),
  });
  const set = (key: keyof Draft) => (_e: unknown, data: { value: string }) => {
    save.reset();
    setDraft((d) => ({ ...d, [key]: data.value }));
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = organisationSettingsChange.safeParse(change);
    setShown(parsed.success ? {} : problemsOf(parsed.error.issues, change));
    if (parsed.success) save.mutate(parsed.data);
  };
  const field = (
    key: keyof Draft,
    label: string,
    hint: string,
    testId: string,
    inputMode?: "decimal" | "numeric",
  ) => (
    <Field
      label={label}
      hint={hint}
      validationState={shown[key] ? "error" : "none"}
      validationMessage={shown[key]}
    >
      <Input
        value={draft[key]}
        onChange={set(key)}
        readOnly={!props.canChange}
        inputMode={inputMode}
        data-testid={testId}
      />
    </Field>
  );
  return (
    <form onSubmit={submit} aria-label="Organisation settings">
      <div className={styles.grid}>
        {field(
          "holdThreshold",
          "Hold threshold",
          "Mail scoring this or more is held (default 5).",
          "org-hold-threshold",
          "decimal",
        )}
        {field(
          "suspectScore",
          "Suspect score",
          "Delivered mail scoring this or more goes to Junk (not above the hold threshold).",
          "org-suspect-score",
          "decimal",
        )}
        <Field label="Senders the organisation blocks" hint="What their mail gets at the gateway.">
          <Select
            value={draft.orgBlockAction}
            onChange={(_e, data) => {
              save.reset();
              setDraft((d) => ({ ...d, orgBlockAction: data.value === "hold" ? "hold" : "reject" }));
            }}
            disabled={!props.canChange}
            data-testid="org-block-action"
          >
            <option value="reject">Refused (550)</option>
            <option value="hold">Held for review</option>
          </Select>
        </Field>
        {field(
          "quarantineRetentionDays",
          "Held mail kept for (days)",
          "Then it expires unreleased.",
          "org-retention-days",
          "numeric",
        )}
        {field(
          "autoPermitDays",
          "Release and permit lasts (days)",
          "How long the permit it adds stays.",
          "org-permit-days",
          "numeric",
        )}
        {field("timeZone", "Digest time zone", "An IANA zone, e.g. Europe/Berlin.", "org-time-zone")}
        {field(
          "digestTimes",
          "Digest times",
          "HH:MM, comma-separated; empty: no digests.",
          "org-digest-times",
        )}
      </div>
      {props.canChange ? (
        <div className={styles.actions}>
          <Button
            type="submit"
            appearance="primary"
            disabled={save.isPending || Object.keys(change).length === 0}
            data-testid="org-settings-save"
          >
            Save
          </Button>
          <Button
            disabled={!tried.success || preview.isPending}
            onClick={() => {
              if (tried.success) preview.mutate(tried.data);
            }}
            data-testid="org-settings-preview"
          >
            Preview on last week's mail
          </Button>
          {save.isSuccess ? <Text role="status">Saved. New mail is scanned with these settings.</Text> : null}
          {save.isError ? (
            <Text role="alert" data-testid="org-settings-error">
              {asApiError(save.error).message}
            </Text>
          ) : null}
        </div>
      ) : (
        <Text size={200}>Only security and tenant admins change these.</Text>
      )}
      {preview.data ? (
        <Text as="p" size={200} data-testid="org-settings-impact">
          {impactSentence(preview.data)}
        </Text>
      ) : null}
      {preview.isError ? <Text role="alert">{asApiError(preview.error).message}</Text> : null}
    </form>
  );
}

/**
 * The organisation's settings, for those who may read the policies (security admins, auditors, tenant admins): how
 * strict the gateway is, what an organisation block does, how long held mail waits, and when digests go out. Those
 * who may manage the policies change them here; only what they edited is sent, and the server audits it.
 */
export function OrganisationSettings() {
  const api = useApi();
  const canRead = useCan("policies.read");
  const canChange = useCan("policies.manage");
  const settings = useQuery({
    queryKey: ["admin", "settings"],
    queryFn: () => api.admin.settings(),
    enabled: canRead,
  });
  if (!canRead) return null;
  return (
    <SettingsSection id="organisation-title" title="Your organisation">
      {settings.isPending ? <Text size={200}>Loading the organisation's settings…</Text> : null}
      {settings.isError ? (
        <Text role="alert" data-testid="org-settings-load-error">
          The organisation's settings could not be read: {asApiError(settings.error).message}
        </Text>
      ) : null}
      {settings.data ? <Form current={settings.data} canChange={canChange} /> : null}
    </SettingsSection>
  );
}
