import { Badge, makeStyles, tokens } from "@fluentui/react-components";

const useStyles = makeStyles({
  list: {
    display: "flex",
    flexWrap: "wrap",
    gap: tokens.spacingHorizontalS,
    listStyle: "none",
    padding: 0,
    margin: 0,
  },
});

function colorFor(result: string): "success" | "danger" | "warning" | "informative" {
  if (result === "pass") return "success";
  if (["fail", "softfail", "permerror"].includes(result)) return "danger";
  if (["temperror", "neutral", "policy"].includes(result)) return "warning";
  return "informative";
}

/** SPF/DKIM/DMARC/ARC as labelled badges (colour plus the word, so colour is never the only cue). */
export function AuthResultsList(props: {
  results: Partial<Record<"spf" | "dkim" | "dmarc" | "arc", string>>;
}) {
  const styles = useStyles();
  const entries = (["spf", "dkim", "dmarc", "arc"] as const).flatMap((method) => {
    const result = props.results[method];
    return result ? [[method, result] as const] : [];
  });
  if (entries.length === 0) return null;
  return (
    <ul className={styles.list} aria-label="Authentication results" data-testid="auth-results">
      {entries.map(([method, result]) => (
        <li key={method}>
          <Badge appearance="tint" color={colorFor(result)} aria-label={`${method.toUpperCase()} ${result}`}>
            {method.toUpperCase()}: {result}
          </Badge>
        </li>
      ))}
    </ul>
  );
}
