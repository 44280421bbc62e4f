import { Button, MessageBar, MessageBarActions, MessageBarBody } from "@fluentui/react-components";

/**
 * The Content-Security-Policy inside the preview: nothing may load or run, except inline styles, inline
 * (data:/cid:) images and, only after the person asks, remote https images.
 */
export function previewCsp(allowRemoteImages: boolean): string {
  const images = allowRemoteImages ? "img-src data: cid: https:" : "img-src data: cid:";
  return `default-src 'none'; ${images}; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; form-action 'none'`;
}

/** The srcdoc for the sandboxed preview: the server's sanitized HTML under a strict CSP meta. */
export function buildPreviewDocument(sanitizedHtml: string, allowRemoteImages: boolean): string {
  return [
    '<!doctype html><html><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${previewCsp(allowRemoteImages)}">`,
    '<meta name="referrer" content="no-referrer">',
    "<style>body{font-family:system-ui,sans-serif;font-size:14px;margin:8px;overflow-wrap:anywhere;",
    "color:#242424;background:#fff}img{max-width:100%;height:auto}table{max-width:100%}</style>",
    `</head><body>${sanitizedHtml}</body></html>`,
  ].join("");
}

/**
 * Shows a message body: sanitized HTML in `<iframe sandbox="">` (no scripts, no forms, no same-origin, no
 * popups), or plain text. Offers "Show remote images" when the server blocked some.
 */
export function MessageFrame(props: {
  html: string | null;
  text: string | null;
  remoteImagesBlocked: boolean;
  remoteImagesShown: boolean;
  onShowRemoteImages: () => void;
  title: string;
}) {
  const { html, text } = props;
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
      {html !== null ? (
        <iframe
          title={props.title}
          data-testid="message-preview"
          sandbox=""
          referrerPolicy="no-referrer"
          srcDoc={buildPreviewDocument(html, props.remoteImagesShown)}
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
