import { makeStyles, tokens } from "@fluentui/react-components";
import type { BodyLink } from "../../../shared/schemas/held";

const useStyles = makeStyles({
  list: { margin: 0, paddingLeft: tokens.spacingHorizontalL },
  link: { overflowWrap: "anywhere" },
});

/**
 * Where each link of a message really goes (its text, then its target as text), shown beside the sandboxed
 * preview, whose links open nothing; collapsed, and nothing at all when the message has no links.
 */
export function MessageLinks(props: { links: readonly BodyLink[] | undefined }) {
  const styles = useStyles();
  const links = props.links ?? [];
  if (links.length === 0) return null;
  return (
    <details data-testid="message-links">
      <summary>Links in this message ({links.length})</summary>
      <ul className={styles.list}>
        {links.map((link, index) => (
          <li key={index} className={styles.link}>
            “{link.text}” → <code>{link.href}</code>
          </li>
        ))}
      </ul>
    </details>
  );
}
