import { Button, MessageBar, MessageBarActions, MessageBarBody } from "@fluentui/react-components";

/**
 * Shows a message body: the server's preview document in `<iframe sandbox="">` (no scripts, no forms, no
 * same-origin, no popups, so links open nothing), or plain text. Offers "Show images" when the server blocked some.
 *
 * The frame loads `previewUrl` rather than an srcdoc: an srcdoc document inherits this page's CSP, whose
 * `img-src` (rightly) never allows https, so remote images could not show even after the person asked. A
 * document from a URL keeps its own policy, which the server sends as a header: https images only when asked.
 */
export function MessageFrame(props: {
  /** Where the frame loads the preview document (a signed API URL); null for text-only mail. */
  previewUrl: string | null;
  text: string | null;
  remoteImagesBlocked: boolean;
  remoteImagesShown: boolean;
  onShowRemoteImages: () => void;
  title: string;
}) {
  const { previewUrl, text } = props;
  return (
    <div>
      {props.remoteImagesBlocked && !props.remoteImagesShown ? (
        <MessageBar intent="info">
          <MessageBarBody>Remote images are blocked to protect your privacy.</MessageBarBody>
          <MessageBarActions>
            <Button size="small" onClick={props.onShowRemoteImages} data-testid="show-remote-images">
              Show images
            </Button>
          </MessageBarActions>
        </MessageBar>
      ) : null}
      {previewUrl !== null ? (
        <iframe
          title={props.title}
          data-testid="message-preview"
          sandbox=""
          referrerPolicy="no-referrer"
          src={previewUrl}
          style={{
            width: "100%",
            height: 320,
            border: "1px solid #8a8a8a",
            borderRadius: 4,
            background: "#fff",
          }}
        />
      ) : (
        <pre
          data-testid="message-preview"
          aria-label={props.title}
          tabIndex={0}
          style={{
            whiteSpace: "pre-wrap",
            overflowWrap: "anywhere",
            maxHeight: 320,
            overflow: "auto",
            margin: 0,
          }}
        >
          {text ?? "(This message has no body.)"}
        </pre>
      )}
    </div>
  );
}
