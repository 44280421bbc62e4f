import { CounterBadge, makeStyles, tokens } from "@fluentui/react-components";
import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense, useCallback, useState, type ComponentType } from "react";
import { AppHeader, useAppFrameStyles } from "./components/AppHeader";
import { LoadingState } from "./components/states";
import { Tabs } from "./components/Tabs";
import { UndoBanner } from "./components/UndoBanner";
import { NavProvider, useApp, useCan, VIEW_IDS, type NavTarget, type ViewId } from "./context";
import { VIEW_LOADERS, type ViewProps } from "./view-loaders";

const VIEWS: Record<ViewId, { label: string; component: ComponentType<ViewProps> }> = {
  message: { label: "Message", component: lazy(VIEW_LOADERS.message) },
  held: { label: "Held", component: lazy(VIEW_LOADERS.held) },
  review: { label: "Review", component: lazy(VIEW_LOADERS.review) },
  archive: { label: "Archive", component: lazy(VIEW_LOADERS.archive) },
  senders: { label: "Senders", component: lazy(VIEW_LOADERS.senders) },
  settings: { label: "Settings", component: lazy(VIEW_LOADERS.settings) },
};

const useStyles = makeStyles({
  tabs: {
    flexShrink: 0,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    paddingLeft: tokens.spacingHorizontalXS,
  },
  main: { flexGrow: 1, padding: tokens.spacingHorizontalM, minWidth: 0 },
  srOnly: {
    position: "absolute",
    width: "1px",
    height: "1px",
    overflow: "hidden",
    clipPath: "inset(50%)",
    whiteSpace: "nowrap",
  },
});

function initialView(available: ViewId[]): ViewId {
  const fromHash = location.hash.replace(/^#/, "").split("/")[0] as ViewId;
  if (available.includes(fromHash)) return fromHash;
  return available[0] ?? "held";
}

/** How many items a queue has, as its count (up to 100; `more` when there are more). */
function useQueueCount(
  queryKey: readonly string[],
  fetchCount: () => Promise<{ count: number; more: boolean }>,
  enabled: boolean,
): { count: number; more: boolean } {
  const counted = useQuery({ queryKey, queryFn: fetchCount, staleTime: 60_000, enabled });
  return { count: counted.data?.count ?? 0, more: counted.data?.more ?? false };
}

/** A tab's count: a badge for the eye, and the same in words for screen readers. */
function TabCount(props: { count: number; more: boolean; testId: string; srOnlyClass: string }) {
  if (props.count === 0) return null;
  return (
    <>
      <CounterBadge
        count={props.count}
        overflowCount={99}
        size="small"
        color="danger"
        aria-hidden
        data-testid={props.testId}
        data-count={props.count}
      />
      <span className={props.srOnlyClass}>
        , {props.more ? "more than " : ""}
        {props.count} waiting
      </span>
    </>
  );
}

/** The frame around the views: header, tab navigation with the held count, the Undo banner, and the view. */
export function Shell(props: { authMode: "bearer" | "cookie" }) {
  const { host, api } = useApp();
  const styles = useStyles();
  const frame = useAppFrameStyles();
  const canReadHeld = useCan("held.read_own");
  const held = useQueueCount(
    ["held", "count"],
    // The count alone: the first page of 100 held messages, sent and checked only to be counted, was the
    // heaviest answer of an opening.
    () => api.held.count({ status: "held" }),
    canReadHeld,
  );
  // Review is the security team's queue: for people who may decide release requests, triage reports or trace mail.
  const canApproveReleases = useCan("held.approve_release");
  const canTriageReports = useCan("reports.triage");
  const canTrace = useCan("mail.trace");
  const canReview = canApproveReleases || canTriageReports || canTrace;
  // Pending release requests are someone waiting for a decision: counted on the Review tab.
  const requests = useQueueCount(
    ["review", "requests", "count"],
    () => api.admin.releaseRequestCount({ status: "pending" }),
    canApproveReleases,
  );
  const available = VIEW_IDS.filter(
    (id) => (id !== "message" || host.kind === "outlook") && (id !== "review" || canReview),
  );
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

  return (
    <NavProvider navigate={navigate}>
      <div className={frame.root}>
        <AppHeader authMode={props.authMode} />
        <nav className={styles.tabs} aria-label="Mailward">
          <Tabs
            label="Mailward views"
            panelId="mailward-view"
            selected={target.view}
            onSelect={(view) => navigate({ view })}
            items={available.map((id) => ({
              value: id,
              testId: `nav-${id}`,
              content: (
                <>
                  {VIEWS[id].label}
                  {id === "held" ? (
                    <TabCount {...held} testId="held-count" srOnlyClass={styles.srOnly} />
                  ) : null}
                  {id === "review" ? (
                    <TabCount {...requests} testId="review-count" srOnlyClass={styles.srOnly} />
                  ) : null}
                </>
              ),
            }))}
          />
        </nav>
        <UndoBanner />
        <main className={styles.main}>
          <div id="mailward-view" role="tabpanel" aria-label={VIEWS[target.view].label}>
            <Suspense
              fallback={<LoadingState label={`Loading ${VIEWS[target.view].label.toLowerCase()}…`} />}
            >
              <View key={`${target.view}:${target.itemId ?? ""}`} itemId={target.itemId} />
            </Suspense>
          </div>
        </main>
      </div>
    </NavProvider>
  );
}
