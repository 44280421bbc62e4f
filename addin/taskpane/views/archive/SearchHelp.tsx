import { makeStyles, tokens } from "@fluentui/react-components";

const useStyles = makeStyles({
  table: { borderCollapse: "collapse", fontSize: tokens.fontSizeBase200, width: "100%" },
  cell: { padding: `2px ${tokens.spacingHorizontalS}`, verticalAlign: "top", textAlign: "start" },
});

const SYNTAX: [string, string][] = [
  ["invoice overdue", "both words"],
  ['"wire transfer"', "the exact phrase"],
  ["-newsletter", "without this word"],
  ["invoice OR receipt", "either word"],
  ["from:bank.example", "sender address or domain"],
  ["to: / cc:", "recipients"],
  ["subject:refund", "word in the subject"],
  ["attachment:pdf", "attachment file name"],
  ["has:attachment", "only mail with attachments"],
  ["after:2025-01-31 before:2025-03-01", "date range"],
];

/** The archive query language, as a compact reference (DESIGN §4). */
export function SearchHelp(props: { id: string }) {
  const styles = useStyles();
  return (
    <table className={styles.table} id={props.id} data-testid="archive-syntax-help">
      <caption style={{ textAlign: "start" }}>Search syntax</caption>
      <tbody>
        {SYNTAX.map(([example, meaning]) => (
          <tr key={example}>
            <th scope="row" className={styles.cell}>
              <code>{example}</code>
            </th>
            <td className={styles.cell}>{meaning}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
