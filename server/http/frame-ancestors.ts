/**
 * Who may frame Mailward's pages: itself, Outlook on the web and the new Outlook. The message preview is framed by
 * the task pane, which Outlook frames, so it needs the same list: `frame-ancestors` checks every ancestor.
 */
export const OFFICE_FRAME_ANCESTORS: readonly string[] = [
  "'self'",
  "https://*.office.com",
  "https://*.office365.com",
  "https://*.outlook.com",
  "https://outlook.live.com",
  "https://*.microsoft.com",
  "https://*.cloud.microsoft",
];
