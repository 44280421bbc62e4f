import net from "node:net";

/** One client connection through the proxy, as the proxy sees it. */
export interface ProxiedConnection {
  /** Everything the client sent first, as text: for PostgreSQL, its startup message (user, database, application). */
  readonly opening: string;
  /** True once the client's side has closed. */
  readonly closed: boolean;
}

/** A TCP proxy to a real server whose path can go silent, for what a dropped network path does to a client. */
export interface TcpProxy {
  port: number;
  /** From now on nothing crosses, either way, on old or new connections: it is held, as a path that drops packets. */
  silence(): void;
  /** What was held crosses, and what follows: a path that works again. */
  restore(): void;
  connections(): readonly ProxiedConnection[];
  close(): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1 to `port`. While silent it holds bytes rather than dropping them, so a client that waits
 * stays consistent with its server; a client that gives up and closes takes what it had sent with it (the server
 * never sees it) and the proxy closes the server's side, as PostgreSQL would see a connection that died.
 */
export async function startTcpProxy(port: number): Promise<TcpProxy> {
  let silent = false;
  const flushes = new Set<() => void>();
  const seen: Array<{ opening: string; closed: boolean }> = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const record = { opening: "", closed: false };
    seen.push(record);
    const upstream = net.connect(port, "127.0.0.1");
    sockets.add(client).add(upstream);
    const held: Array<[net.Socket, Buffer]> = [];
    const flush = () => {
      for (const [to, chunk] of held.splice(0)) if (!to.destroyed) to.write(chunk);
    };
    flushes.add(flush);
    const forward = (to: net.Socket) => (chunk: Buffer) => {
      if (to === upstream && record.opening === "") record.opening = chunk.toString("latin1");
      if (silent) held.push([to, chunk]);
      else to.write(chunk);
    };
    client.on("data", forward(upstream));
    upstream.on("data", forward(client));
    const end = () => {
      flushes.delete(flush);
      held.length = 0;
      client.destroy();
      upstream.destroy();
    };
    client.on("close", () => {
      record.closed = true;
      end();
    });
    client.on("end", end);
    client.on("error", end);
    upstream.on("close", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    silence() {
      silent = true;
    },
    restore() {
      silent = false;
      for (const flush of flushes) flush();
    },
    connections: () => seen,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
