import net from "node:net";

/** One HTTP/1.1 answer as read off the wire. */
export interface RawAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/**
 * A raw TCP connection to an HTTP server, for what fetch and node:http hide: what is sent when (headers without their
 * body, a chunked body that never ends), whether the server closes the connection, and how much it took first.
 */
export class RawConnection {
  private received = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  /** The client's local port (how the server names this connection), kept past the close. */
  readonly localPort: number;
  /** True once the server closed (or reset) the connection. */
  closed = false;
  /** Resolves when the connection is closed, whoever closed it. */
  readonly whenClosed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    this.localPort = socket.localPort ?? 0;
    socket.on("data", (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on("error", () => {
      // A reset after the server's answer (it closed with body bytes unread): the answer is already read.
    });
    this.whenClosed = new Promise((resolve) =>
      socket.once("close", () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
  }

  /** Connects to 127.0.0.1:port. */
  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Writes bytes, waiting for the socket to drain; false when the connection is closed meanwhile. */
  async write(data: string | Buffer): Promise<boolean> {
    if (this.closed || this.socket.destroyed) return false;
    if (this.socket.write(data)) return true;
    await Promise.race([new Promise((resolve) => this.socket.once("drain", resolve)), this.whenClosed]);
    return !this.closed;
  }

  /** Streams a chunked body of `chunkSize`-byte chunks until `maxBytes` are sent or the server closes; bytes sent. */
  async pumpChunks(chunkSize: number, maxBytes: number): Promise<number> {
    const data = Buffer.alloc(chunkSize, "x");
    const frame = Buffer.concat([Buffer.from(`${chunkSize.toString(16)}\r\n`), data, Buffer.from("\r\n")]);
    let sent = 0;
    while (sent < maxBytes && (await this.write(frame))) sent += chunkSize;
    return sent;
  }

  /** The next complete answer (a Content-Length body); throws after `timeoutMs` or when closed without one. */
  async nextAnswer(timeoutMs = 10_000): Promise<RawAnswer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = this.takeAnswer();
      if (answer) return answer;
      if (this.closed) throw new Error(`closed before a whole answer: ${this.received.toString("latin1")}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no answer in time");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private takeAnswer(): RawAnswer | null {
    const end = this.received.indexOf("\r\n\r\n");
    if (end < 0) return null;
    const [statusLine = "", ...lines] = this.received.subarray(0, end).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? "0");
    if (this.received.length < end + 4 + length) return null;
    const body = this.received.subarray(end + 4, end + 4 + length).toString("utf8");
    this.received = this.received.subarray(end + 4 + length);
    return { status: Number(statusLine.split(" ")[1]), headers, body };
  }

  /** Closes the client side. */
  close(): void {
    this.socket.destroy();
  }
}

/** The head of a request: request line and headers, ending with the blank line. */
export function requestHead(method: string, path: string, headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1", ...lines, "", ""].join("\r\n");
}
