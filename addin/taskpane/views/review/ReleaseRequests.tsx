import { Badge, makeStyles, Text, tokens } from "@fluentui/react-components";
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import type { HeldItem, ReleaseRequestItem } from "../../../../shared/schemas/held";
import type { ReleaseDecision } from "../../../api/endpoints";
import { formatDateTime, REASON_LABELS } from "../../components/format";
import { EmptyState } from "../../components/states";
import { PagedList } from "../../components/PagedList";
import { useApi } from "../../context";
import { OutcomeBar } from "./OutcomeBar";
import { ReleaseRequestDetail } from "./ReleaseRequestDetail";
import { signalTexts } from "./reviewText";
import { cursorPaging } from "../../cursor-paging";

const NARROW = "@media (max-width: 719px)";
const WIDE = "@media (min-width: 720px)";

const useStyles = makeStyles({
  layout: {
    display: "grid",
    gap: tokens.spacingHorizontalL,
    [WIDE]: { gridTemplateColumns: "minmax(280px, 2fr) 3fr" },
  },
  column: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS, minWidth: 0 },
  hideNarrow: { [NARROW]: { display: "none" } },
  hideWide: { [WIDE]: { display: "none" } },
  list: { listStyle: "none", margin: 0, padding: 0 },
  row: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalXXS,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalXS}`,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    minWidth: 0,
  },
  selected: { backgroundColor: tokens.colorNeutralBackground1Selected },
  open: {
    textAlign: "start",
    background: "none",
    border: "none",
    padding: 0,
    color: "inherit",
    font: "inherit",
    cursor: "pointer",
    minWidth: 0,
    ":focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}` },
  },
  line: { display: "block", overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  wrap: { overflowWrap: "anywhere" },
  meta: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalXS, alignItems: "center" },
  signals: { margin: 0, paddingLeft: tokens.spacingHorizontalL },
  note: {
    margin: 0,
    paddingLeft: tokens.spacingHorizontalS,
    borderLeft: `3px solid ${tokens.colorNeutralStroke1}`,
    overflowWrap: "anywhere",
  },
});

function RequestRow(props: { request: ReleaseRequestItem; open: boolean; onOpen: () => void }) {
  const styles = useStyles();
  const { request } = props;
  const { held } = request;
  const reasons = signalTexts(held.signals).slice(0, 3);
  return (
    <li
      className={`${styles.row} ${props.open ? styles.selected : ""}`}
      data-testid="review-request-row"
      data-held-id={request.heldId}
    >
      <button
        type="button"
        id={`review-open-${request.heldId}`}
        className={styles.open}
        onClick={props.onOpen}
        aria-current={props.open ? "true" : undefined}
        data-testid="review-request-open"
      >
        <Text weight="semibold" className={styles.line}>
          {held.subject || "(no subject)"}
        </Text>
        <Text className={styles.line}>From {held.from}</Text>
      </button>
      <Text size={200} className={styles.wrap}>
        To {held.to} · requested by {request.requester}, {formatDateTime(request.createdAt)}
      </Text>
      <span className={styles.meta}>
        <Badge appearance="tint" color={held.reason === "phish" ? "danger" : "warning"}>
          {REASON_LABELS[held.reason] ?? held.reason}
        </Badge>
        <Text size={200}>score {held.score.toFixed(1)}</Text>
      </span>
      {reasons.length > 0 ? (
        <ul className={styles.signals} aria-label="Why it was held">
          {reasons.map((text) => (
            <li key={text}>
              <Text size={200}>{text}</Text>
            </li>
          ))}
        </ul>
      ) : null}
      {request.note ? (
        <p className={styles.note}>
          <Text size={200}>
            Note from {request.requester}: “{request.note}”
          </Text>
        </p>
      ) : null}
    </li>
  );
}

/** Release requests for phish/malware holds: the pending queue, and the opened request's preview and decision. */
export function ReleaseRequests() {
  const api = useApi();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState<ReleaseRequestItem | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const returnFocusTo = useRef<string | null>(null);

  const list = useInfiniteQuery({
    queryKey: ["review", "requests"],
    queryFn: ({ pageParam }) => api.admin.releaseRequests({ status: "pending", cursor: pageParam }),
    ...cursorPaging,
  });

  // Back to the list: focus the row that was open, so keyboard users continue where they were.
  useEffect(() => {
    if (open || !returnFocusTo.current) return;
    document.getElementById(`review-open-${returnFocusTo.current}`)?.focus();
    returnFocusTo.current = null;
  }, [open]);

  const openRequest = (request: ReleaseRequestItem) => {
    returnFocusTo.current = request.heldId;
    setOpen(request);
  };
  const decided = (request: ReleaseRequestItem, decision: ReleaseDecision, result: HeldItem) => {
    const subject = request.held.subject || "(no subject)";
    setOutcome(
      decision === "approve"
        ? `Approved: “${subject}” was ${result.status === "released" ? "released" : "approved for release"} to ${request.held.to}. ${request.requester} will be told.`
        : `Denied: “${subject}” stays held. ${request.requester} will be told.`,
    );
    returnFocusTo.current = null;
    setOpen(null);
    void queryClient.invalidateQueries({ queryKey: ["review"] });
    void queryClient.invalidateQueries({ queryKey: ["held"] });
  };

  return (
    <div className={styles.layout}>
      <section
        className={`${styles.column} ${open ? styles.hideNarrow : ""}`}
        aria-labelledby="review-requests-title"
        data-testid="review-requests"
      >
        <Text as="h2" size={400} weight="semibold" id="review-requests-title">
          Release requests
        </Text>
        <Text size={200}>
          People asked to release these phishing or malware holds. Open one to see it safely, then approve or
          deny.
        </Text>
        {outcome ? <OutcomeBar text={outcome} /> : null}
        <PagedList
          query={list}
          loadingLabel="Loading release requests…"
          empty={{
            title: "No release requests waiting",
            hint: "When someone asks to release a phishing or malware hold, it appears here.",
            testId: "review-requests-empty",
          }}
        >
          {(items) => (
            <ul className={styles.list} aria-label="Pending release requests">
              {items.map((request) => (
                <RequestRow
                  key={request.id}
                  request={request}
                  open={open?.id === request.id}
                  onOpen={() => openRequest(request)}
                />
              ))}
            </ul>
          )}
        </PagedList>
      </section>
      <section className={`${styles.column} ${open ? "" : styles.hideNarrow}`} aria-label="Request details">
        {open ? (
          <ReleaseRequestDetail
            key={open.id}
            request={open}
            onBack={() => setOpen(null)}
            backClassName={styles.hideWide}
            onDecided={(decision, result) => decided(open, decision, result)}
          />
        ) : (
          <EmptyState title="Select a request" hint="The message's preview and the decision appear here." />
        )}
      </section>
    </div>
  );
}
