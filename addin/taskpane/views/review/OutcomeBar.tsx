import { MessageBar, MessageBarBody } from "@fluentui/react-components";
import { useEffect, useRef } from "react";

/**
 * The outcome of a decision, focused when it appears so keyboard and screen-reader users land on it (the row or
 * detail they acted on has just gone from the list).
 */
export function OutcomeBar(props: { text: string; intent?: "success" | "warning" }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, [props.text]);
  return (
    <div ref={ref} tabIndex={-1} data-testid="review-outcome" style={{ outlineOffset: 2 }}>
      <MessageBar intent={props.intent ?? "success"}>
        <MessageBarBody>{props.text}</MessageBarBody>
      </MessageBar>
    </div>
  );
}
