import { MessageBar, MessageBarBody, MessageBarTitle, Text } from "@fluentui/react-components";
import { useQuery } from "@tanstack/react-query";
import type { z } from "zod";
import type { classifierStatus } from "../../../../shared/schemas/classifier";
import { asApiError } from "../../../api/errors";
import { formatCount, formatDateTime, largeCountOf } from "../../components/format";
import { useApi, useCan } from "../../context";

type ClassifierStatusData = z.infer<typeof classifierStatus>;
type PerClass = ClassifierStatusData["messages"];

function perClassText(c: PerClass): string {
  return `${largeCountOf(c.ham, "wanted message")}, ${largeCountOf(c.spam, "spam message")} and ${largeCountOf(c.phish, "phishing message")}`;
}

/** The classifier in one or two sentences: whether content counts in verdicts yet, and what it has learnt. */
export function classifierSentence(s: ClassifierStatusData): string {
  const learnt = `It has learnt ${perClassText(s.messages)}`;
  if (!s.active) {
    const needHam = Math.max(0, s.minimumPerSide - s.messages.ham);
    const needBad = Math.max(0, s.minimumPerSide - s.messages.spam - s.messages.phish);
    const needs = [
      needHam > 0 ? largeCountOf(needHam, "more wanted message") : "",
      needBad > 0 ? largeCountOf(needBad, "more spam or phish", "more spam or phish") : "",
    ].filter(Boolean);
    return `Content does not count in verdicts yet: the classifier needs ${needs.join(" and ")}. ${learnt}.`;
  }
  const phish = s.separatesPhish
    ? ""
    : " It cannot tell phish from spam yet: confirm phishing reports, or train it on phish.";
  const vocabulary = `${largeCountOf(s.tokens, "word or feature", "words and features")}, of at most ${formatCount(s.tokenLimit)} kept`;
  return `Content counts in verdicts. ${learnt} (${vocabulary}), last on ${formatDateTime(
    s.updatedAt ?? "",
  )}.${phish}`;
}

/**
 * The content classifier above the triage queue, for those who may read the policies: whether content counts in
 * verdicts yet and what taught it, since the decisions below are what teaches it. A new organisation sees what it
 * still needs, and that `npm run mailward -- train` can teach it labelled mail at once.
 */
export function ClassifierStatus() {
  const api = useApi();
  const canRead = useCan("policies.read");
  const status = useQuery({
    queryKey: ["review", "classifier"],
    queryFn: () => api.admin.classifier(),
    enabled: canRead,
  });
  if (!canRead || status.isPending) return null;
  if (status.isError)
    return (
      <Text role="alert" size={200} data-testid="classifier-error">
        The classifier's status could not be read: {asApiError(status.error).message}
      </Text>
    );
  const s = status.data;
  const intent = s.active ? "info" : "warning";
  return (
    <MessageBar intent={intent} layout="multiline" data-testid="classifier-status" data-intent={intent}>
      <MessageBarBody>
        <MessageBarTitle>Content classifier</MessageBarTitle>
        {/* Each on a line of its own: Text is inline unless told, and the two sentences ran together. */}
        <Text size={200} block>
          {classifierSentence(s)}
        </Text>
        <Text size={200} as="p" block data-testid="classifier-sources">
          From reports and releases: {perClassText(s.learntFrom.feedback)}. From labelled mail (npm run
          mailward -- train): {perClassText(s.learntFrom.labelledMail)}.
        </Text>
      </MessageBarBody>
    </MessageBar>
  );
}
