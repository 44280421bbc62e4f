import { makeStyles, Text, tokens } from "@fluentui/react-components";
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { TriageDecisionBody, TriageItem } from "../../../../shared/schemas/reports";
import type { TriageDecision } from "../../../api/endpoints";
import { countOf } from "../../components/format";
import { PagedList } from "../../components/PagedList";
import { useApi } from "../../context";
import { ClassifierStatus } from "./ClassifierStatus";
import { OutcomeBar } from "./OutcomeBar";
import { ReportRow } from "./ReportRow";
import { KIND_CLAIMS } from "./reviewText";
import { cursorPaging } from "../../cursor-paging";

const useStyles = makeStyles({
  column: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS, minWidth: 0 },
  list: { listStyle: "none", margin: 0, padding: 0 },
});

function outcomeText(item: TriageItem, decision: TriageDecision, body: TriageDecisionBody): string {
  const subject = item.message?.subject || "(no subject)";
  const told = `${countOf(item.reporters.length || item.reportCount, "reporter")} will be told.`;
  if (decision === "dismiss") return `Dismissed: “${subject}” was judged safe. ${told}`;
  const blocked =
    body.blockSender && item.message ? ` ${item.message.from} is now blocked for everyone.` : "";
  return `Confirmed: “${subject}” ${KIND_CLAIMS[item.kind]}. ${told}${blocked}`;
}

/** The triage queue of reported messages (duplicates merged): who reported what, and Confirm / Dismiss. */
export function ReportsTriage() {
  const api = useApi();
  const styles = useStyles();
  const queryClient = useQueryClient();
  const [outcome, setOutcome] = useState<string | null>(null);

  const list = useInfiniteQuery({
    queryKey: ["review", "reports"],
    queryFn: ({ pageParam }) => api.admin.reports({ status: "open", cursor: pageParam }),
    ...cursorPaging,
  });

  const decided = (item: TriageItem, decision: TriageDecision, body: TriageDecisionBody) => {
    setOutcome(outcomeText(item, decision, body));
    void queryClient.invalidateQueries({ queryKey: ["review", "reports"] });
    void queryClient.invalidateQueries({ queryKey: ["review", "classifier"] });
    if (body.blockSender) void queryClient.invalidateQueries({ queryKey: ["senders"] });
  };

  return (
    <section className={styles.column} aria-labelledby="review-reports-title" data-testid="review-reports">
      <Text as="h2" size={400} weight="semibold" id="review-reports-title">
        Reported messages
      </Text>
      <Text size={200}>
        Confirm when the reporters are right, dismiss when they are not. Every reporter is told, and Mailward
        learns from your decision.
      </Text>
      <ClassifierStatus />
      {outcome ? <OutcomeBar text={outcome} /> : null}
      <PagedList
        query={list}
        loadingLabel="Loading reported messages…"
        empty={{
          title: "No reports to triage",
          hint: "Messages people report as phishing, spam or not spam appear here.",
          testId: "review-reports-empty",
        }}
      >
        {(items) => (
          <ul className={styles.list} aria-label="Reported messages awaiting triage">
            {items.map((item) => (
              <ReportRow key={item.id} item={item} onDecided={decided} />
            ))}
          </ul>
        )}
      </PagedList>
    </section>
  );
}
