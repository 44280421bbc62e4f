import { randomUUID } from "node:crypto";
import { normalizePath, type Route, type RouteContext } from "./router";
import { GraphError, jsonBody, jsonResponse, type GraphRequest, type GraphResponse } from "./types";

interface SubRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

const MAX_REQUESTS = 20;

function invalid(message: string): GraphError {
  return new GraphError(400, "BadRequest", message);
}

function parseRequests(body: Record<string, unknown>): SubRequest[] {
  if (!Array.isArray(body.requests) || body.requests.length === 0)
    throw invalid("Invalid batch payload format.");
  if (body.requests.length > MAX_REQUESTS)
    throw invalid(`The number of requests in the batch exceeds the limit of ${MAX_REQUESTS}.`);
  const requests = (body.requests as unknown[]).map((raw): SubRequest => {
    if (typeof raw !== "object" || raw === null) throw invalid("Invalid batch payload format.");
    const entry = raw as Record<string, unknown>;
    if (typeof entry.id !== "string" || typeof entry.method !== "string" || typeof entry.url !== "string") {
      throw invalid("Each batch request needs 'id', 'method' and 'url'.");
    }
    const headers: Record<string, string> = {};
    if (typeof entry.headers === "object" && entry.headers !== null) {
      for (const [name, value] of Object.entries(entry.headers))
        if (typeof value === "string") headers[name.toLowerCase()] = value;
    }
    if (entry.body !== undefined && !headers["content-type"])
      throw invalid("Content-Type header is required when a request has a body.");
    const dependsOn = Array.isArray(entry.dependsOn)
      ? entry.dependsOn.filter((dep): dep is string => typeof dep === "string")
      : [];
    return {
      id: entry.id,
      method: entry.method.toUpperCase(),
      url: entry.url,
      headers,
      body: entry.body,
      dependsOn,
    };
  });
  const ids = new Set(requests.map((request) => request.id.toLowerCase()));
  if (ids.size !== requests.length) throw invalid("Batch request ids must be unique.");
  for (const request of requests) {
    if (request.dependsOn.some((dep) => !ids.has(dep.toLowerCase())))
      throw invalid(`Request '${request.id}' depends on an unknown request.`);
  }
  const byId = new Map(requests.map((request) => [request.id.toLowerCase(), request]));
  const visiting = new Set<string>();
  const visited = new Set<string>();
  const visit = (key: string): void => {
    if (visited.has(key)) return;
    if (visiting.has(key)) throw invalid("The dependsOn graph of the batch has a cycle.");
    visiting.add(key);
    for (const dep of byId.get(key)?.dependsOn ?? []) visit(dep.toLowerCase());
    visiting.delete(key);
    visited.add(key);
  };
  for (const key of byId.keys()) visit(key);
  return requests;
}

function toGraphRequest(parent: GraphRequest, sub: SubRequest): GraphRequest {
  const url = new URL(sub.url.startsWith("/") ? sub.url : `/${sub.url}`, "http://batch.invalid");
  const body =
    sub.body === undefined
      ? Buffer.alloc(0)
      : typeof sub.body === "string"
        ? Buffer.from(sub.body, "utf8")
        : Buffer.from(JSON.stringify(sub.body));
  return {
    requestId: randomUUID(),
    method: sub.method,
    path: normalizePath(url.pathname),
    query: url.searchParams,
    headers: { ...sub.headers, authorization: parent.headers.authorization ?? "" },
    body,
    principal: parent.principal,
    batchId: parent.requestId,
  };
}

function serialise(id: string, response: GraphResponse): Record<string, unknown> {
  const out: Record<string, unknown> = { id, status: response.status, headers: response.headers };
  if (Buffer.isBuffer(response.body)) out.body = response.body.toString("base64");
  else if (response.body !== undefined) out.body = response.body;
  return out;
}

/**
 * POST /$batch (JSON batching): up to 20 sub-requests, each run through the same pipeline as a direct request
 * (auth, MailboxConcurrency, injected faults, log). Independent requests run `batchParallelism` at a time;
 * `dependsOn` sequences them, and a request whose dependency failed answers 424.
 */
export const batchRoute: Route = {
  method: "POST",
  pattern: "$batch",
  handler: async (ctx: RouteContext, req: GraphRequest) => {
    const requests = parseRequests(jsonBody(req));
    const done = new Map<string, Promise<GraphResponse>>();
    let running = 0;
    const waiting: (() => void)[] = [];
    const acquire = async (): Promise<void> => {
      if (running < ctx.options.batchParallelism) {
        running += 1;
        return;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    };
    const release = (): void => {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    };
    const run = async (sub: SubRequest): Promise<GraphResponse> => {
      const dependencies = await Promise.all(sub.dependsOn.map((dep) => done.get(dep.toLowerCase())));
      if (dependencies.some((dep) => !dep || dep.status >= 400)) {
        return jsonResponse(424, {
          error: { code: "FailedDependency", message: "A request this one depends on failed." },
        });
      }
      await acquire();
      try {
        return await ctx.execute(toGraphRequest(req, sub));
      } finally {
        release();
      }
    };
    const byId = new Map(requests.map((sub) => [sub.id.toLowerCase(), sub]));
    const schedule = (sub: SubRequest): Promise<GraphResponse> => {
      const key = sub.id.toLowerCase();
      const existing = done.get(key);
      if (existing) return existing;
      for (const dep of sub.dependsOn) {
        const target = byId.get(dep.toLowerCase());
        if (target && !done.has(dep.toLowerCase())) schedule(target);
      }
      const promise = run(sub);
      done.set(key, promise);
      return promise;
    };
    const responses = await Promise.all(requests.map(async (sub) => serialise(sub.id, await schedule(sub))));
    return jsonResponse(200, { responses });
  },
};
