import pino from "pino";

/** The structured logger type used everywhere. */
export type Logger = pino.Logger;

/**
 * Paths redacted from every log line: credentials, session material and
 * message content must never be written to logs.
 */
export const REDACTED_PATHS = [
  "password",
  "*.password",
  "totp",
  "*.totp",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "refreshToken",
  "*.refreshToken",
  "secret",
  "*.secret",
  "totpSecret",
  "*.totpSecret",
  "secretKey",
  "*.secretKey",
  "body",
  "*.body",
  "html",
  "*.html",
  "text",
  "*.text",
  "raw",
  "*.raw",
  "eml",
  "*.eml",
  "req.headers.authorization",
  "req.headers.cookie",
  "res.headers['set-cookie']",
  "headers.authorization",
  "headers.cookie",
];

/** Creates the process logger; `destination` lets tests capture output. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } }, destination);
}
