import { Badge, Checkbox, makeStyles, Text, tokens } from "@fluentui/react-components";
import type { HeldItem } from "../../../../shared/schemas/held";
import { formatDateTime, isOpenHold, REASON_LABELS, STATUS_LABELS, timeUntil } from "../../components/format";

const useStyles = makeStyles({
  list: { listStyle: "none", margin: 0, padding: 0 },
  row: {
    display: "flex",
    gap: tokens.spacingHorizontalS,
    alignItems: "flex-start",
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalXS}`,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  selected: { backgroundColor: tokens.colorNeutralBackground1Selected },
  open: {
    flexGrow: 1,
    minWidth: 0,
    textAlign: "start",
    background: "none",
    border: "none",
    padding: 0,
    color: "inherit",
    font: "inherit",
    cursor: "pointer",
    ":focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}` },
  },
  line: { display: "block", overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  meta: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalXS, alignItems: "center" },
});

/** The held messages as a selectable list; each row opens its detail and says whose it is when that can vary. */
export function HeldList(props: {
  items: HeldItem[];
  selectedIds: ReadonlySet<string>;
  openId: string | null;
  onToggle: (id: string, checked: boolean) => void;
  onOpen: (id: string) => void;
  /** Name each row's recipient: the list holds other people's messages (a team's, the organisation's). */
  showRecipient?: boolean;
}) {
  const styles = useStyles();
  return (
    <ul className={styles.list} aria-label="Held messages" data-testid="held-list">
      {props.items.map((item) => (
        <li
          key={item.id}
          className={`${styles.row} ${props.openId === item.id ? styles.selected : ""}`}
          data-testid="held-row"
          data-held-id={item.id}
        >
          <Checkbox
            checked={props.selectedIds.has(item.id)}
            onChange={(_e, data) => props.onToggle(item.id, data.checked === true)}
            aria-label={`Select message from ${item.from}: ${item.subject}`}
          />
          <button
            type="button"
            id={`held-open-${item.id}`}
            className={styles.open}
            onClick={() => props.onOpen(item.id)}
            aria-current={props.openId === item.id ? "true" : undefined}
            data-testid="held-open"
          >
            <Text weight="semibold" className={styles.line}>
              {item.from}
            </Text>
            <Text className={styles.line}>{item.subject || "(no subject)"}</Text>
            <span className={styles.meta}>
              <Badge appearance="tint" color={item.reason === "phish" ? "danger" : "warning"}>
                {REASON_LABELS[item.reason] ?? item.reason}
              </Badge>
              {item.status !== "held" ? (
                <Badge appearance="outline">{STATUS_LABELS[item.status]}</Badge>
              ) : null}
              {props.showRecipient && !item.toGroup ? (
                <Badge appearance="outline" color="informative" data-testid="held-recipient">
                  to {item.to}
                </Badge>
              ) : null}
              {item.toGroup ? (
                <Badge appearance="outline" color="informative" data-testid="held-to-group">
                  to {item.to}
                </Badge>
              ) : null}
              <Text size={200}>{formatDateTime(item.receivedAt)}</Text>
              {isOpenHold(item.status) ? <Text size={200}>· expires {timeUntil(item.expiresAt)}</Text> : null}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}
