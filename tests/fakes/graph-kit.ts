import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { startEntraFake, type EntraFake } from "./entra";
import { closeServer } from "./entra/server";
import { startGraphFake, type GraphFake, type GraphFakeOptions } from "./graph";

/** The result of a raw Graph call in tests. */
export interface GraphCallResult {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or `{}` when the body is empty or not JSON. */
  json: Record<string, unknown>;
  text: string;
}

/** Both fakes plus a caller with an app-only token: what most Graph fake tests start from. */
export interface GraphKit {
  entra: EntraFake;
  graph: GraphFake;
  token: string;
  userId: string;
  call(
    method: string,
    path: string,
    options?: {
      body?: unknown;
      headers?: Record<string, string>;
      token?: string | null;
      immutable?: boolean;
    },
  ): Promise<GraphCallResult>;
  close(): Promise<void>;
}

/** Starts Entra + Graph fakes with one mailbox user (Adele) and mints an app-only Graph token. */
export async function startGraphKit(
  options: Partial<Omit<GraphFakeOptions, "entra">> = {},
): Promise<GraphKit> {
  const entra = await startEntraFake();
  const graph = await startGraphFake({
    entra,
    users: [
      {
        id: "00000000-0000-4000-8000-0000000ade1e",
        userPrincipalName: "adele@contoso.test",
        displayName: "Adele Vance",
      },
    ],
    ...options,
  });
  const token = await entra.mintGraphToken();
  const call: GraphKit["call"] = async (method, path, callOptions = {}) => {
    const headers: Record<string, string> = { ...(callOptions.headers ?? {}) };
    const bearer = callOptions.token === undefined ? token : callOptions.token;
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    if (callOptions.immutable) headers.prefer = 'IdType="ImmutableId"';
    let body: string | undefined;
    if (callOptions.body !== undefined) {
      body = typeof callOptions.body === "string" ? callOptions.body : JSON.stringify(callOptions.body);
      headers["content-type"] ??= "application/json";
    }
    const url = path.startsWith("http") ? path : `${graph.baseUrl}${path}`;
    const response = await fetch(url, { method, headers, body });
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === "object" && parsed !== null) json = parsed as Record<string, unknown>;
    } catch {
      json = {};
    }
    return { status: response.status, headers: response.headers, json, text };
  };
  return {
    entra,
    graph,
    token,
    userId: "00000000-0000-4000-8000-0000000ade1e",
    call,
    close: async () => {
      await graph.close();
      await entra.close();
    },
  };
}

/** How a test webhook answers Graph's validation request. */
export type ValidationBehaviour =
  "echo" | "wrong-token" | "status-500" | "json-content-type" | { delayMs: number };

/** A notification the test webhook received. */
export interface ReceivedNotification {
  path: string;
  body: { value: Record<string, unknown>[] };
  at: number;
}

/** A local webhook that answers validation requests and records change/lifecycle notifications. */
export interface WebhookReceiver {
  url: string;
  received: ReceivedNotification[];
  validations: string[];
  validation: ValidationBehaviour;
  /** Status answered to notifications (default 202). */
  notificationStatus: number;
  close(): Promise<void>;
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Starts a webhook receiver on 127.0.0.1 (ephemeral port). */
export async function startWebhookReceiver(
  validation: ValidationBehaviour = "echo",
): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: "",
    received: [],
    validations: [],
    validation,
    notificationStatus: 202,
    close: async () => closeServer(server),
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://webhook.invalid");
      const body = await readAll(req);
      const token = url.searchParams.get("validationToken");
      if (token !== null) {
        receiver.validations.push(token);
        const behaviour = receiver.validation;
        if (typeof behaviour === "object")
          await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
        if (behaviour === "status-500") return res.writeHead(500).end();
        const contentType =
          behaviour === "json-content-type" ? "application/json" : "text/plain; charset=utf-8";
        return res
          .writeHead(200, { "content-type": contentType })
          .end(behaviour === "wrong-token" ? `${token}x` : token);
      }
      receiver.received.push({
        path: url.pathname,
        body: JSON.parse(body) as ReceivedNotification["body"],
        at: Date.now(),
      });
      res.writeHead(receiver.notificationStatus).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
