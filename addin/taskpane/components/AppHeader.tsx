import { Button, makeStyles, Text, tokens } from "@fluentui/react-components";
import { useApp } from "../context";
import { useSignOut } from "../signOut";

const useStyles = makeStyles({
  header: {
    display: "flex",
    alignItems: "center",
    justifyContent: "space-between",
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
  },
});

/** The page around every signed-in screen (the shell, the enrolment gate): a centred column under the header. */
export const useAppFrameStyles = makeStyles({
  root: {
    display: "flex",
    flexDirection: "column",
    minHeight: "100vh",
    maxWidth: "1280px",
    margin: "0 auto",
  },
});

/** The top bar of every signed-in screen: the product name, and in the portal "Sign out" with who is signed in. */
export function AppHeader(props: { authMode: "bearer" | "cookie" }) {
  const { me } = useApp();
  const styles = useStyles();
  const signOut = useSignOut();
  return (
    <header className={styles.header}>
      <Text weight="semibold" size={400} as="h1">
        Mailward
      </Text>
      {props.authMode === "cookie" ? (
        <Button size="small" appearance="subtle" onClick={() => void signOut()} data-testid="sign-out">
          Sign out{me ? ` ${me.displayName}` : ""}
        </Button>
      ) : null}
    </header>
  );
}
