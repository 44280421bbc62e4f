import { Button, MessageBar, MessageBarBody, MessageBarTitle, Text } from "@fluentui/react-components";
import { asApiError } from "../../../api/errors";
import { useSignOut } from "../../signOut";

/**
 * Why something that makes a lasting credential was refused. A portal session that signed in too long ago gets a
 * button that signs out and back in (the server's step-up: a stolen session must not make an SMTP password or set an
 * authenticator); the page comes back here. Any other error is shown as it is.
 */
export function StepUpError(props: {
  error: unknown;
  /** What needs the recent sign-in, as it reads mid-sentence ("a new SMTP password"). */
  need: string;
  /** What to do after signing in again ("create it"). */
  then: string;
  /** Prefix of the notice's and the button's test ids. */
  testId: string;
}) {
  const signOut = useSignOut();
  const error = asApiError(props.error);
  if (error.id !== "recent_sign_in_required") return <Text role="alert">{error.message}</Text>;
  return (
    <MessageBar intent="warning" layout="multiline" data-testid={`${props.testId}-step-up`}>
      <MessageBarBody>
        <MessageBarTitle>Sign in again first</MessageBarTitle>
        <Text role="alert">
          For your safety, {props.need} needs a sign-in from the last few minutes. Sign in again, then{" "}
          {props.then}.
        </Text>
        <div>
          <Button
            appearance="primary"
            size="small"
            onClick={() => void signOut()}
            data-testid={`${props.testId}-sign-in-again`}
          >
            Sign in again
          </Button>
        </div>
      </MessageBarBody>
    </MessageBar>
  );
}
