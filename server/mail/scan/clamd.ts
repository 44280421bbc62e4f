import net from "node:net";

/**
 * A client for ClamAV's daemon (clamd), over TCP or a Unix socket, with its INSTREAM command:
 * the message goes in length-prefixed chunks, clamd unpacks MIME, archives and documents itself
 * and answers one line. Each scan is its own connection, so one stuck scan holds nothing else up.
 */

/** Where clamd listens: a TCP host and port, or a Unix socket. */
export type ClamdAddress = { host: string; port: number } | { path: string };

/** What clamd said of a message. */
export type ClamdVerdict =
  | { kind: "clean" }
  | { kind: "infected"; signature: string }
  /** clamd would not take it whole (its StreamMaxLength): nothing was scanned. */
  | { kind: "too_large" };

/** clamd could not be asked, or answered an error: the message was not scanned. */
export class ClamdUnavailableError extends Error {
  constructor(reason: string) {
    super(`antivirus (clamd) unavailable: ${reason}`);
    this.name = "ClamdUnavailableError";
  }
}

/** The form MAILWARD_CLAMD takes: `host:port`, or the absolute path of clamd's Unix socket. */
export const CLAMD_SETTING_PATTERN = /^(\/\S+|[A-Za-z0-9.\-[\]:]+:[0-9]{1,5})$/;

/** Reads MAILWARD_CLAMD (`127.0.0.1:3310`, `[::1]:3310` or `/run/clamav/clamd.ctl`). */
export function clamdAddressOf(setting: string): ClamdAddress {
  const value = setting.trim();
  if (!CLAMD_SETTING_PATTERN.test(value))
    throw new TypeError(`not a clamd address: "${value}" (host:port or a socket path)`);
  if (value.startsWith("/")) return { path: value };
  const colon = value.lastIndexOf(":");
  return { host: value.slice(0, colon).replace(/^\[|\]$/g, ""), port: Number(value.slice(colon + 1)) };
}

/**
 * clamd's own default StreamMaxLength (25M in clamd.conf): a longer stream is cut off with an error, and
 * MAILWARD_CLAMD_STREAM_LIMIT's default.
 */
export const DEFAULT_CLAMD_STREAM_LIMIT = 25 * 1024 * 1024;

/** Bytes per INSTREAM chunk (clamd reads chunks of any size up to its StreamMaxLength). */
const CHUNK = 64 * 1024;

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(length);
  return prefix;
}

/** The INSTREAM request for a message, one write each: the command, each length-prefixed chunk, the zero-length end. */
function instream(raw: Buffer): Buffer[] {
  const frames: Buffer[] = [Buffer.from("zINSTREAM\0")];
  for (let offset = 0; offset < raw.length; offset += CHUNK) {
    const chunk = raw.subarray(offset, offset + CHUNK);
    frames.push(Buffer.concat([lengthPrefix(chunk.length), chunk]));
  }
  frames.push(lengthPrefix(0));
  return frames;
}

/** Turns clamd's reply line into a verdict; an ERROR reply (other than the size limit) throws. */
export function verdictOfReply(reply: string): ClamdVerdict {
  const line = reply.replace(/\0/g, "").trim();
  if (/^stream: OK$/.test(line)) return { kind: "clean" };
  const found = /^stream: (.+) FOUND$/.exec(line);
  if (found?.[1]) return { kind: "infected", signature: found[1].slice(0, 200) };
  if (/size limit exceeded/i.test(line)) return { kind: "too_large" };
  throw new ClamdUnavailableError(line === "" ? "empty reply" : `clamd answered "${line.slice(0, 200)}"`);
}

/**
 * Scans raw MIME with clamd. Resolves with clamd's verdict; rejects with ClamdUnavailableError when
 * clamd cannot be reached, breaks the connection, answers an error or takes longer than `timeoutMs`.
 * A message longer than `streamLimit` (clamd's StreamMaxLength) is `too_large` without asking: clamd
 * would close the connection part way through, and a write racing that close can lose its answer.
 */
export function clamdScan(
  address: ClamdAddress,
  raw: Buffer,
  timeoutMs: number,
  streamLimit = Number.POSITIVE_INFINITY,
): Promise<ClamdVerdict> {
  if (raw.length > streamLimit) return Promise.resolve({ kind: "too_large" });
  return new Promise((resolve, reject) => {
    const socket = "path" in address ? net.connect(address.path) : net.connect(address.port, address.host);
    const received: Buffer[] = [];
    let settled = false;
    const finish = (outcome: () => ClamdVerdict) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      try {
        resolve(outcome());
      } catch (err) {
        reject(err instanceof Error ? err : new ClamdUnavailableError(String(err)));
      }
    };
    const fail = (reason: string) =>
      finish(() => {
        throw new ClamdUnavailableError(reason);
      });
    socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`));
    // One frame at a time, reading in between: clamd answers as soon as a stream passes its StreamMaxLength
    // and closes, and a write that fails on the closed connection destroys the socket before the answer
    // waiting in it is read (the message then looks like clamd being down: 451, and the sender retries).
    // Reading between frames makes that rare; `streamLimit` set to clamd's own avoids it.
    const frames = instream(raw);
    let next = 0;
    const writeNext = () => {
      if (settled || received.length > 0 || next >= frames.length) return;
      const frame = frames[next] as Buffer;
      next += 1;
      socket.write(frame, (err) => {
        if (!err) setImmediate(writeNext);
      });
    };
    socket.on("connect", writeNext);
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk);
      // The reply ends with the NUL of the z-prefixed command.
      if (chunk.includes(0)) finish(() => verdictOfReply(Buffer.concat(received).toString("utf8")));
    });
    socket.on("end", () => {
      const reply = Buffer.concat(received).toString("utf8");
      if (reply.trim() === "") fail("clamd closed the connection without an answer");
      else finish(() => verdictOfReply(reply));
    });
    // clamd closes its end as soon as a stream passes its size limit; the reply it sent first decides.
    socket.on("error", (err: NodeJS.ErrnoException) => {
      const reply = Buffer.concat(received).toString("utf8");
      if (reply.trim() !== "") finish(() => verdictOfReply(reply));
      else fail(err.code ?? err.message);
    });
  });
}
