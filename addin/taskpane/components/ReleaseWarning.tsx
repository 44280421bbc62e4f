import {
  Button,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
} from "@fluentui/react-components";
import { useEffect, useRef, type ReactNode } from "react";

/**
 * The second step of releasing mail held as phishing or for a dangerous attachment: what it means, "Release anyway"
 * and Cancel. It takes the focus when it opens, since the button that opened it is disabled meanwhile. One
 * warning for the review's approval, the Held detail's release and the Held list's bulk release.
 */
export function ReleaseWarning(props: {
  title: string;
  children: ReactNode;
  busy: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  /** data-testids: `<prefix>-warning`, `<prefix>-confirm` and `<prefix>-cancel`. */
  testIdPrefix: string;
}) {
  const warning = useRef<HTMLDivElement>(null);
  useEffect(() => {
    warning.current?.focus();
  }, []);
  return (
    <MessageBar
      intent="warning"
      layout="multiline"
      ref={warning}
      tabIndex={-1}
      data-testid={`${props.testIdPrefix}-warning`}
    >
      <MessageBarBody>
        <MessageBarTitle>{props.title}</MessageBarTitle>
        {props.children}
      </MessageBarBody>
      <MessageBarActions>
        <Button
          appearance="primary"
          disabled={props.busy}
          onClick={props.onConfirm}
          data-testid={`${props.testIdPrefix}-confirm`}
        >
          Release anyway
        </Button>
        <Button disabled={props.busy} onClick={props.onCancel} data-testid={`${props.testIdPrefix}-cancel`}>
          Cancel
        </Button>
      </MessageBarActions>
    </MessageBar>
  );
}
