import { Button, CounterBadge, makeStyles, Tab, TabList, Text, tokens } from "@fluentui/react-components";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useCallback, useState, type ComponentType } from "react";
import { LoadingState } from "./components/states";
import { UndoBanner } from "./components/UndoBanner";
import { NavProvider, useApp, useCan, VIEW_IDS, type NavTarget, type ViewId } from "./context";

type ViewProps = { itemId?: string };

const VIEWS: Record<ViewId, { label: string; component: ComponentType<ViewProps> }> = {
  message: {
    label: "Message",
    component: lazy(() => import("./views/ThisMessage").then((m) => ({ default: m.ThisMessageView }))),
  },
  held: {
    label: "Held",
    component: lazy(() => import("./views/held/HeldView").then((m) => ({ default: m.HeldView }))),
  },
  archive: {
    label: "Archive",
    component: lazy(() => import("./views/archive/ArchiveView").then((m) => ({ default: m.ArchiveView }))),
  },
  senders: {
    label: "Senders",
    component: lazy(() => import("./views/senders/SendersView").then((m) => ({ default: m.SendersView }))),
  },
  settings: {
    label: "Settings",
    component: lazy(() => import("./views/settings/SettingsView").then((m) => ({ default: m.SettingsView }))),
  },
};

const useStyles = makeStyles({
  root: {
    display: "flex",
    flexDirection: "column",
    minHeight: "100vh",
    maxWidth: "1280px",
    margin: "0 auto",
  },
  header: {
    display: "flex",
    alignItems: "center",
    justifyContent: "space-between",
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  tabs: { overflowX: "auto", flexShrink: 0, borderBottom: `1px solid ${tokens.colorNeutralStroke2}` },
  main: { flexGrow: 1, padding: tokens.spacingHorizontalM, minWidth: 0 },
});

function initialView(available: ViewId[]): ViewId {
  const fromHash = location.hash.replace(/^#/, "").split("/")[0] as ViewId;
  if (available.includes(fromHash)) return fromHash;
  return available[0] ?? "held";
}

function HeldCountBadge() {
  const { api } = useApp();
  const count = useQuery({
    queryKey: ["held", "count"],
    queryFn: () => api.held.list({ status: "held", limit: 100 }),
    staleTime: 60_000,
  });
  if (!count.data || count.data.items.length === 0) return null;
  const more = count.data.nextCursor !== null;
  const total = count.data.items.length;
  return (
    <CounterBadge
      count={total}
      overflowCount={99}
      size="small"
      color="danger"
      data-testid="held-count"
      aria-label={`${more ? "more than " : ""}${total} held messages`}
    />
  );
}

/** The frame around the views: header, tab navigation with the held count, the Undo banner, and the view. */
export function Shell(props: { authMode: "bearer" | "cookie" }) {
  const { host, me, api } = useApp();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const canReadHeld = useCan("held.read_own");
  const available = VIEW_IDS.filter((id) => id !== "message" || host.kind === "outlook");
  const [target, setTarget] = useState<NavTarget>(() => ({ view: initialView(available) }));
  const navigate = useCallback((next: NavTarget) => {
    setTarget(next);
    try {
      history.replaceState(null, "", `#${next.view}`);
    } catch {
      // Some hosts forbid history changes; navigation still works.
    }
  }, []);
  const View = VIEWS[target.view].component;

  const signOut = async () => {
    try {
      await api.auth.logout();
    } finally {
      queryClient.clear();
      await queryClient.invalidateQueries({ queryKey: ["me"] });
    }
  };

  return (
    <NavProvider navigate={navigate}>
      <div className={styles.root}>
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
        <nav className={styles.tabs} aria-label="Mailward views">
          <TabList
            size="small"
            selectedValue={target.view}
            onTabSelect={(_event, data) => navigate({ view: data.value as ViewId })}
          >
            {available.map((id) => (
              <Tab key={id} value={id} data-testid={`nav-${id}`}>
                {VIEWS[id].label}
                {id === "held" && canReadHeld ? (
                  <>
                    {" "}
                    <HeldCountBadge />
                  </>
                ) : null}
              </Tab>
            ))}
          </TabList>
        </nav>
        <UndoBanner />
        <main className={styles.main} aria-label={VIEWS[target.view].label}>
          <Suspense fallback={<LoadingState label={`Loading ${VIEWS[target.view].label.toLowerCase()}…`} />}>
            <View key={`${target.view}:${target.itemId ?? ""}`} itemId={target.itemId} />
          </Suspense>
        </main>
      </div>
    </NavProvider>
  );
}
