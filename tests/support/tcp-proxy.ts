import net from "node:net";

/** One client connection through the proxy, as the proxy sees it. */
export interface ProxiedConnection {
  /** Everything the client sent first, as text: for PostgreSQL, its startup message (user, database, application). */
  readonly opening: string;
  /** True once the client has said goodbye or gone (seen by the proxy, even while the path is silent). */
  readonly closed: boolean;
}

/** A TCP proxy to a real server whose path can go silent, for what a dropped network path does to a client. */
export interface TcpProxy {
  port: number;
  /** From now on nothing crosses, either way, on old or new connections: it is held, as a path that drops packets. */
  silence(): void;
  /** What was held crosses, and what follows: a path that works again. */
  restore(): void;
  /**
   * The connections open now are dead from here on, both ways, with nothing held and no goodbye crossing, while new
   * ones work: a firewall or NAT that lost its state after a failover and drops packets of flows it no longer knows.
   */
  forget(): void;
  connections(): readonly ProxiedConnection[];
  close(): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1 to `port`. While silent it holds bytes and goodbyes rather than dropping them, so a
 * client that waits stays consistent with its server; a client that gives up and destroys its socket takes what it
 * had sent with it (the server never sees it) and the proxy closes the server's side, as PostgreSQL would see a
 * connection that died.
 */
export async function startTcpProxy(port: number): Promise<TcpProxy> {
  let silent = false;
  const flushes = new Set<() => void>();
  const forgetters = new Set<() => void>();
  const seen: Array<{ opening: string; closed: boolean }> = [];
  const sockets = new Set<net.Socket>();
  // Half-open allowed: a side's goodbye (FIN) is one more thing that does not cross while the path is silent.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const record = { opening: "", closed: false };
    seen.push(record);
    let dead = false;
    const forget = () => {
      dead = true;
    };
    forgetters.add(forget);
    const upstream = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    sockets.add(client).add(upstream);
    const held: Array<[net.Socket, Buffer | "end"]> = [];
    const pass = (to: net.Socket, what: Buffer | "end") => {
      if (to.destroyed) return;
      if (what === "end") to.end();
      else to.write(what);
    };
    const flush = () => {
      for (const [to, what] of held.splice(0)) pass(to, what);
    };
    flushes.add(flush);
    const forward = (to: net.Socket) => (what: Buffer | "end") => {
      if (dead) return;
      if (silent) held.push([to, what]);
      else pass(to, what);
    };
    const toUpstream = forward(upstream);
    const toClient = forward(client);
    client.on("data", (chunk: Buffer) => {
      if (record.opening === "") record.opening = chunk.toString("latin1");
      toUpstream(chunk);
    });
    upstream.on("data", toClient);
    client.on("end", () => {
      record.closed = true;
      toUpstream("end");
    });
    upstream.on("end", () => toClient("end"));
    const gone = () => {
      record.closed = true;
      flushes.delete(flush);
      forgetters.delete(forget);
      held.length = 0;
      client.destroy();
      upstream.destroy();
    };
    client.on("close", gone);
    client.on("error", gone);
    upstream.on("close", gone);
    upstream.on("error", gone);
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
    forget() {
      for (const forget of forgetters) forget();
    },
    connections: () => seen,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A proxy (startTcpProxy) in front of the PostgreSQL server of `url`, and the same URL through it. */
export async function startTcpProxyFor(url: string): Promise<{ proxy: TcpProxy; url: string }> {
  const proxied = new URL(url);
  const proxy = await startTcpProxy(Number(proxied.port || 5432));
  proxied.hostname = "127.0.0.1";
  proxied.port = String(proxy.port);
  return { proxy, url: proxied.toString() };
}
