import { Readable } from "node:stream";

/** How much of the body is handed to the SMTP stream at a time: it asks for more only as the socket drains. */
const BODY_CHUNK_BYTES = 64 * 1024;

/**
 * The message body as a stream that holds back its end: the final
 * "<CRLF>.<CRLF>" is only written once `beforeEnd` resolved true (the handoff
 * was committed). If it resolves false or fails, the stream errors and the dot
 * is never sent, so the next hop cannot have accepted the message.
 *
 * The body goes out in chunks, each when the reader asks for it (backpressure from the socket), so the
 * handoff is committed once the body has been taken, not when the transfer starts: a next hop that drops
 * the connection while the body is still going out cannot have the message.
 */
export class GuardedBody extends Readable {
  private offset = 0;
  private guarding = false;
  /** The reader took the end of the body: the final dot follows it onto the wire. */
  dotSent = false;
  /** The handoff was refused or failed: the stream was ended here, without the dot. */
  refused = false;

  constructor(
    private readonly raw: Buffer,
    private readonly beforeEnd: () => Promise<boolean>,
  ) {
    super({ highWaterMark: BODY_CHUNK_BYTES });
    this.once("end", () => {
      this.dotSent = true;
    });
  }

  override _read(): void {
    if (this.offset < this.raw.length) {
      const chunk = this.raw.subarray(this.offset, this.offset + BODY_CHUNK_BYTES);
      this.offset += chunk.length;
      this.push(chunk);
      return;
    }
    if (this.guarding) return;
    this.guarding = true;
    this.beforeEnd().then(
      (ok) =>
        ok ? this.push(null) : this.refuse(new Error("handoff refused: the delivery is no longer ours")),
      (err: unknown) => this.refuse(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private refuse(err: Error): void {
    this.refused = true;
    this.destroy(err);
  }
}
