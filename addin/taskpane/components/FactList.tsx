import { makeStyles, Text, tokens } from "@fluentui/react-components";

const useStyles = makeStyles({
  facts: {
    display: "grid",
    gridTemplateColumns: "auto 1fr",
    columnGap: tokens.spacingHorizontalS,
    margin: 0,
  },
  value: { margin: 0, overflowWrap: "anywhere" },
});

/** Label/value facts of a message (from, to, received, …) as a definition list, shared by the detail views. */
export function FactList(props: { rows: ReadonlyArray<readonly [string, string]> }) {
  const styles = useStyles();
  return (
    <dl className={styles.facts}>
      {props.rows.map(([label, value]) => (
        <div key={label} style={{ display: "contents" }}>
          <dt>
            <Text weight="semibold">{label}</Text>
          </dt>
          <dd className={styles.value}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
