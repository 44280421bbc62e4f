import { makeStyles, tokens } from "@fluentui/react-components";
import { useState } from "react";
import { EmptyState } from "../../components/states";
import { Tabs } from "../../components/Tabs";
import { useCan } from "../../context";
import { ReleaseRequests } from "./ReleaseRequests";
import { ReportsTriage } from "./ReportsTriage";
import { MessageTrace } from "./MessageTrace";

type Queue = "requests" | "reports" | "trace";

const LABELS: Record<Queue, string> = {
  requests: "Release requests",
  reports: "Reported messages",
  trace: "Message trace",
};

const useStyles = makeStyles({
  root: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalM, minWidth: 0 },
  queues: { borderBottom: `1px solid ${tokens.colorNeutralStroke2}` },
});

/**
 * "Review": the security team's queues. Release requests (agents asking to release a phishing or malware
 * hold: preview, approve, deny) for `held.approve_release`, reported messages (confirm or dismiss) for
 * `reports.triage`, and the message trace for `mail.trace`. A person sees only the queues they may use.
 */
export function ReviewView() {
  const styles = useStyles();
  const canApprove = useCan("held.approve_release");
  const canTriage = useCan("reports.triage");
  const canTrace = useCan("mail.trace");
  const queues: Queue[] = [
    ...(canApprove ? (["requests"] as const) : []),
    ...(canTriage ? (["reports"] as const) : []),
    ...(canTrace ? (["trace"] as const) : []),
  ];
  const [chosen, setChosen] = useState<Queue>(queues[0] ?? "requests");
  const queue = queues.includes(chosen) ? chosen : queues[0];

  if (!queue) {
    return (
      <EmptyState
        title="Nothing to review"
        hint="Reviewing release requests and reported messages is for your security team."
      />
    );
  }
  const body =
    queue === "requests" ? <ReleaseRequests /> : queue === "reports" ? <ReportsTriage /> : <MessageTrace />;
  return (
    <div className={styles.root} data-testid="review-view">
      {queues.length > 1 ? (
        <>
          <Tabs
            label="Review queues"
            panelId="review-queue"
            className={styles.queues}
            selected={queue}
            onSelect={setChosen}
            items={queues.map((value) => ({ value, content: LABELS[value], testId: `review-tab-${value}` }))}
          />
          <div id="review-queue" role="tabpanel" aria-label={LABELS[queue]}>
            {body}
          </div>
        </>
      ) : (
        body
      )}
    </div>
  );
}
