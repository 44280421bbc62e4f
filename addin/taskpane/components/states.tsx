import {
  Button,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
} from "@fluentui/react-components";
import { asApiError } from "../../api/errors";

/** A centred spinner with a label screen readers announce. */
export function LoadingState(props: { label: string }) {
  return (
    <div role="status" aria-live="polite" style={{ padding: 16 }}>
      <Spinner size="small" label={props.label} />
    </div>
  );
}

/** What to show when a list has nothing in it. */
export function EmptyState(props: { title: string; hint?: string; testId?: string }) {
  return (
    <div data-testid={props.testId ?? "empty-state"} style={{ padding: 16, textAlign: "center" }}>
      {/* Text aligns to the start unless told: without it the title stood left of its centred hint. */}
      <Text weight="semibold" block align="center">
        {props.title}
      </Text>
      {props.hint ? <Text size={200}>{props.hint}</Text> : null}
    </div>
  );
}

/** An error with the API's message for a person, and a retry button when retrying can help. */
export function ErrorState(props: { error: unknown; title?: string; onRetry?: () => void }) {
  const error = asApiError(props.error);
  return (
    <MessageBar intent="error" data-testid="error-state" data-error-id={error.id} role="alert">
      <MessageBarBody>
        <MessageBarTitle>{props.title ?? "That didn't work"}</MessageBarTitle>
        {error.message}
      </MessageBarBody>
      {props.onRetry ? (
        <MessageBarActions>
          <Button size="small" onClick={props.onRetry}>
            Try again
          </Button>
        </MessageBarActions>
      ) : null}
    </MessageBar>
  );
}
