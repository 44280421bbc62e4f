import { Button, makeStyles, MessageBar, MessageBarBody, Text, tokens } from "@fluentui/react-components";
import { useState } from "react";
import { saveFile } from "../../components/saveFile";

const useStyles = makeStyles({
  panel: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  codes: {
    display: "grid",
    gridTemplateColumns: "repeat(auto-fill, minmax(12ch, 1fr))",
    gap: tokens.spacingHorizontalS,
    listStyleType: "none",
    margin: 0,
    padding: tokens.spacingVerticalS,
    fontFamily: tokens.fontFamilyMonospace,
    border: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  row: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS },
});

/** The codes as a text file's lines, with a heading, for the download. */
function codesFile(codes: string[]): string {
  return ["Mailward recovery codes (each works once)", "", ...codes, ""].join("\n");
}

/**
 * One-time recovery codes, shown once right after they are made (enrolment or replacement): the only way back in
 * without IT when the phone is lost. Copy and download, then "I've saved them" closes the panel.
 */
export function RecoveryCodes(props: { codes: string[]; onDone: () => void }) {
  const styles = useStyles();
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.codes.join("\n"));
      setCopied("yes");
    } catch {
      // Office webviews and http pages may refuse the clipboard: the codes stay on screen and in the download.
      setCopied("failed");
    }
  };
  const download = () =>
    saveFile(new Blob([codesFile(props.codes)], { type: "text/plain" }), "mailward-recovery-codes.txt");
  return (
    <div className={styles.panel} data-testid="recovery-codes">
      <MessageBar intent="warning">
        <MessageBarBody>
          Save these recovery codes somewhere safe, apart from your phone. Each one signs you in once if you
          lose your authenticator app. They are shown only now.
        </MessageBarBody>
      </MessageBar>
      <ul className={styles.codes} aria-label="Recovery codes">
        {props.codes.map((code) => (
          <li key={code} data-testid="recovery-code">
            {code}
          </li>
        ))}
      </ul>
      <div className={styles.row}>
        <Button onClick={() => void copy()}>Copy</Button>
        <Button onClick={download}>Download</Button>
        <Button appearance="primary" onClick={props.onDone} data-testid="recovery-codes-done">
          I&apos;ve saved them
        </Button>
      </div>
      {copied === "yes" ? <Text role="status">Copied.</Text> : null}
      {copied === "failed" ? (
        <Text role="status">This window can&apos;t copy: download them or write them down.</Text>
      ) : null}
    </div>
  );
}
