import { Button, makeStyles, Text, tokens } from "@fluentui/react-components";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { groupName } from "../../../../shared/schemas/organisation";
import { asApiError } from "../../../api/errors";
import { OneFieldForm, useSettingsListStyles } from "./parts";

const useStyles = makeStyles({
  about: { minWidth: 0, flexGrow: 1 },
  buttons: { display: "flex", gap: tokens.spacingHorizontalXS, flexShrink: 0 },
});

/** The message a name that does not fit gets before it is sent (the server says the same in its own words). */
export const NAME_RULE = "Use 1 to 100 characters.";

/** What a team's or partner group's row shows and does. */
export interface GroupRowProps {
  /** "team" or "partner": the prefix of the row's test ids. */
  kind: string;
  name: string;
  /** What is in it, in words. */
  summary: string;
  /** Reads the lists again after a change (or a refusal: someone else may have changed it). */
  onChanged: () => void;
  rename: (name: string) => Promise<unknown>;
  remove: () => Promise<unknown>;
}

/**
 * One team or partner group: its name and what is in it, Rename (a field in place) and Delete. A refusal (a name
 * taken, something still in it) shows the server's message in the row.
 */
export function GroupRow(props: GroupRowProps) {
  const styles = useSettingsListStyles();
  const own = useStyles();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(props.name);
  const [invalid, setInvalid] = useState<string | null>(null);
  const refresh = () => props.onChanged();
  const rename = useMutation({
    mutationFn: (name: string) => props.rename(name),
    onSuccess: () => setEditing(false),
    onSettled: refresh,
  });
  const remove = useMutation({ mutationFn: () => props.remove(), onSettled: refresh });
  const submit = () => {
    const parsed = groupName.safeParse(draft);
    setInvalid(parsed.success ? null : NAME_RULE);
    if (parsed.success) rename.mutate(parsed.data);
  };
  const failure = rename.error ?? remove.error;
  return (
    <>
      <div className={own.about}>
        {editing ? (
          <OneFieldForm
            label={`New name for ${props.name}`}
            value={draft}
            onChange={setDraft}
            invalid={invalid}
            onSubmit={submit}
            busy={rename.isPending}
            submitLabel="Save"
            primary
            fieldTestId={`${props.kind}-rename-name`}
            submitTestId={`${props.kind}-rename-save`}
          />
        ) : (
          <Text weight="semibold">{props.name}</Text>
        )}
        <Text as="p" block className={styles.line} size={200}>
          {props.summary}
        </Text>
        {failure ? <Text role="alert">{asApiError(failure).message}</Text> : null}
      </div>
      <div className={own.buttons}>
        <Button
          size="small"
          onClick={() => {
            rename.reset();
            remove.reset();
            setDraft(props.name);
            setInvalid(null);
            setEditing(!editing);
          }}
          aria-label={editing ? `Cancel renaming ${props.name}` : `Rename ${props.name}`}
          data-testid={`${props.kind}-rename`}
        >
          {editing ? "Cancel" : "Rename"}
        </Button>
        <Button
          size="small"
          onClick={() => {
            rename.reset();
            remove.mutate();
          }}
          disabled={remove.isPending}
          aria-label={`Delete ${props.name}`}
          data-testid={`${props.kind}-delete`}
        >
          Delete
        </Button>
      </div>
    </>
  );
}
