import { randomUUID } from "node:crypto";
import net from "node:net";
import { sql } from "kysely";
import pg from "pg";
import { z } from "zod";
import type { Services, Signals } from "../context";

/** The PostgreSQL channel the instances of one database tell each other on (NOTIFY is per database). */
export const SIGNAL_CHANNEL = "mailward_signals";

/** What the listener's connection is called in `pg_stat_activity`. */
export const SIGNAL_RELAY_APPLICATION = "mailward signal relay";

/** First wait before the listener connects again after losing its connection; it doubles up to 30 s. */
const RECONNECT_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/**
 * How often the listener asks its connection for an answer, and how long it waits for one (and for a connection to
 * open). A listening connection only ever receives, so without this a path that went silent (a failover without a
 * reset, a load balancer or NAT that forgets an idle flow: Azure's after 4 minutes) would leave it waiting for ever,
 * deaf to the other instances; the query also keeps such a flow from being idle at all.
 */
export const SIGNAL_RELAY_HEARTBEAT_MS = 30_000;

/**
 * The signals that make an instance forget what it cached (its gateway's recipients and organisation profiles).
 * `deliveriesQueued` is not relayed: it fires with every message the gateway accepts, and each instance's delivery
 * worker claims what every instance queued, on its own next poll.
 */
const relayedSignal = z.discriminatedUnion("kind", [
  z.object({ from: z.string(), kind: z.literal("recipientsChanged") }),
  z.object({ from: z.string(), kind: z.literal("organisationChanged"), tenantId: z.uuid() }),
]);
type RelayedSignal = z.infer<typeof relayedSignal>;
/** A signal as this instance raises it (the relay adds who sent it). */
type Announcement = { kind: "recipientsChanged" } | { kind: "organisationChanged"; tenantId: string };

/** A running relay: stop() unlistens and closes its connection. */
export interface SignalRelay {
  stop(): Promise<void>;
}

/**
 * Carries the cache-invalidating signals to every other instance on the same PostgreSQL database, through
 * LISTEN/NOTIFY: an alias an administrator takes away, or a hold threshold they change, applies from the next
 * message on every instance, not after the 10 s and 30 s the caches keep them. Install it after everything that
 * hooks these signals (the mail pipeline): a signal raised here runs this instance's hooks, then notifies; one
 * received runs them only. A listener that loses its connection connects again and, since it may have missed
 * notifications meanwhile, forgets everything cached once more. A notification that cannot be sent is logged and
 * lost: the caches' own expiry is the fallback. Not for PGlite, whose one process is the only instance. A process
 * that only changes things and caches nothing (the CLI on a PostgreSQL server) starts it with `listen: false`.
 */
export function startSignalRelay(
  services: Services,
  url: string,
  options: { listen: boolean; heartbeatMs?: number } = { listen: true },
): SignalRelay {
  const heartbeatMs = options.heartbeatMs ?? SIGNAL_RELAY_HEARTBEAT_MS;
  const instance = randomUUID();
  const sending = new Set<Promise<unknown>>();
  const local: Pick<Signals, "recipientsChanged" | "organisationChanged"> = {
    recipientsChanged: services.signals.recipientsChanged,
    organisationChanged: services.signals.organisationChanged,
  };
  const publish = (signal: Announcement) => {
    const payload = JSON.stringify({ ...signal, from: instance });
    const sent = sql`SELECT pg_notify(${SIGNAL_CHANNEL}, ${payload})`
      .execute(services.db)
      .catch((err: unknown) => {
        services.logger.warn(
          { err: { message: (err as Error).message }, signal: signal.kind },
          "could not tell the other instances; they apply the change when their cache expires",
        );
      })
      .finally(() => sending.delete(sent));
    sending.add(sent);
  };
  services.signals.recipientsChanged = () => {
    local.recipientsChanged();
    publish({ kind: "recipientsChanged" });
  };
  services.signals.organisationChanged = (tenantId) => {
    local.organisationChanged(tenantId);
    publish({ kind: "organisationChanged", tenantId });
  };

  const received = (payload: string | undefined) => {
    let signal: RelayedSignal;
    try {
      signal = relayedSignal.parse(JSON.parse(payload ?? ""));
    } catch {
      services.logger.warn({ channel: SIGNAL_CHANNEL }, "ignored a notification that is not a signal");
      return;
    }
    if (signal.from === instance) return;
    if (signal.kind === "recipientsChanged") local.recipientsChanged();
    else local.organisationChanged(signal.tenantId);
  };

  let client: pg.Client | null = null;
  let socket: net.Socket | null = null;
  let retry: NodeJS.Timeout | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let delay = RECONNECT_MS;
  let stopped = false;
  let everListened = false;

  /** Asks the listening connection for an answer every `heartbeatMs`; one that does not come in as long is a loss. */
  const beat = (which: pg.Client) => {
    heartbeat = setTimeout(() => {
      const silent = setTimeout(() => lost(which, new Error(`no answer in ${heartbeatMs} ms`)), heartbeatMs);
      silent.unref();
      which.query("SELECT 1").then(
        () => {
          clearTimeout(silent);
          if (which === client && !stopped) beat(which);
        },
        () => clearTimeout(silent), // the connection's "error" event reports it
      );
    }, heartbeatMs);
    heartbeat.unref();
  };

  const connect = async () => {
    retry = null;
    const next = new pg.Client({
      connectionString: url,
      application_name: SIGNAL_RELAY_APPLICATION,
      connectionTimeoutMillis: heartbeatMs,
      stream: () => (socket = new net.Socket()),
    });
    client = next;
    next.on("notification", (message) => {
      if (message.channel === SIGNAL_CHANNEL) received(message.payload);
    });
    next.on("error", (err) => lost(next, err));
    next.on("end", () => lost(next, new Error("connection ended")));
    try {
      await next.connect();
      await next.query(`LISTEN ${SIGNAL_CHANNEL}`);
    } catch (err) {
      lost(next, err as Error);
      return;
    }
    if (stopped || next !== client) return;
    delay = RECONNECT_MS;
    beat(next);
    if (everListened) {
      // Whatever was signalled while this instance was not listening: forget it all.
      local.recipientsChanged();
      services.logger.info("listening to the other instances' signals again");
    }
    everListened = true;
  };

  const lost = (which: pg.Client, err: Error) => {
    if (stopped || which !== client || retry) return;
    client = null;
    if (heartbeat) clearTimeout(heartbeat);
    which.removeAllListeners("notification");
    which.end().catch(() => undefined);
    // On a silent path the goodbye is never answered: the socket goes now rather than when TCP gives up.
    socket?.destroy();
    socket = null;
    services.logger.warn(
      { err: { message: err.message }, retryInMs: delay },
      "lost the connection that hears the other instances' signals",
    );
    retry = setTimeout(() => void connect(), delay);
    retry.unref();
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  };

  if (options.listen) void connect();
  return {
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      if (heartbeat) clearTimeout(heartbeat);
      services.signals.recipientsChanged = local.recipientsChanged;
      services.signals.organisationChanged = local.organisationChanged;
      // What was raised before the stop still reaches the others (the CLI stops right after its command).
      await Promise.allSettled([...sending]);
      const last = client;
      const lastSocket = socket;
      client = null;
      socket = null;
      if (!last) return;
      // A goodbye on a silent path is never answered: the socket goes after one heartbeat's wait.
      const bound = setTimeout(() => lastSocket?.destroy(), heartbeatMs);
      await last.end().catch(() => undefined);
      clearTimeout(bound);
    },
  };
}
