import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRoutes } from "../../server/routes/index";
import type { RouteSpec } from "../../server/http/route-table";
import { ERRORS } from "../../shared/errors";
import { startTestServer, type TestServer } from "../support/server";
import { capturingLogger } from "../support/logger";
import { buildAccessWorld } from "./access/world";
import { archivedFor, heldFor } from "./access/mail-fixtures";
import { buildArchivedMessage } from "../factories";
import type { AccessWorld, SignedInPersona } from "./access/types";
import { seededRng, type Rng } from "./mail/gateway/fuzz-inputs";
import { fillPath, sampleValue, toQueryString, type InputPools, type JsonSchema } from "./api-fuzz/inputs";
import { idPool, messageIdPool, paramPool } from "./api-fuzz/pools";
import { restorePersonas, snapshotPersonas, type PersonasSnapshot } from "./api-fuzz/personas";
import { mimeMessage } from "./archive/helpers";

// Every route of the API table, called by signed-in people with inputs drawn from the route's own schemas: mostly of
// the right shape (real ids of the world, bounds, the longest strings allowed), with hostile text (NUL, lone
// surrogates, markup) and, now and then, a value of the wrong kind. Whatever comes in, the answer is never a 500 and
// every refusal carries a stable error id a person can act on. MAILWARD_API_FUZZ_SEED and MAILWARD_API_FUZZ_COUNT
// (requests per route and persona) and MAILWARD_API_FUZZ_CONCURRENCY run another or a longer hunt; CI keeps the fixed
// seed and a small count.
const SEED = Number(process.env.MAILWARD_API_FUZZ_SEED ?? 20261203);
const COUNT = Number(process.env.MAILWARD_API_FUZZ_COUNT ?? 2);
/** How many requests the all-at-once test keeps in flight (MAILWARD_API_FUZZ_CONCURRENCY). */
const CONCURRENCY = Number(process.env.MAILWARD_API_FUZZ_CONCURRENCY ?? 6);
/** Each hunt's time limit grows with its requests: at 30 a route, the double clicks alone took over a minute. */
const HUNT = { timeout: Math.max(60_000, COUNT * 6_000) };
const PERSONAS: SignedInPersona[] = ["tenant_admin", "security_admin", "agent", "partner_admin"];
const KNOWN_ERRORS = new Set(Object.keys(ERRORS));

let server: TestServer;
let world: AccessWorld;
/** The fuzzing people as the set-up left them; each hunt starts from them (api-fuzz/personas.ts). */
let personas: PersonasSnapshot;
const log = capturingLogger("error");
/** Per route, how many requests got past validation and authorization to a 2xx: the fuzzer must reach commands. */
const reached = new Map<string, number>();
/** Per route, the refusals of its plain requests (`status error_id` → how many, and the first): why a route was not reached. */
const plainRefusals = new Map<string, Map<string, { times: number; first: Exchange }>>();

function schemaOf(type: z.ZodType | undefined): JsonSchema | null {
  return type ? (z.toJSONSchema(type, { io: "input", unrepresentable: "any" }) as JsonSchema) : null;
}

/** One request: what was sent and what came back, for a failure to say exactly what to replay. */
interface Exchange {
  request: string;
  status: number;
  text: string;
}

/** Sends one request as `persona` (a new session of theirs), or as nobody. */
async function call(
  persona: SignedInPersona | null,
  method: string,
  path: string,
  body: unknown,
): Promise<Exchange> {
  const headers: Record<string, string> = {};
  if (persona) {
    const session = await world.newSession(world.callers[persona].user);
    headers.cookie = session.cookie;
    headers["x-csrf-token"] = session.csrf;
  }
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${world.baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: "manual",
  });
  const text = await res.text();
  const shown = body === undefined ? "" : ` ${JSON.stringify(body).slice(0, 400)}`;
  return {
    request: `${persona ?? "anonymous"} ${method} ${path.slice(0, 300)}${shown}`,
    status: res.status,
    text,
  };
}

/** The `error` field of an answer's JSON, or null when it has none (or is not JSON). */
function errorIdOf(text: string): unknown {
  try {
    return (JSON.parse(text) as { error?: unknown }).error ?? null;
  } catch {
    return null;
  }
}

/** Why an answer is wrong, or null: a 500, or a refusal without a known stable error id. */
function problemWith(exchange: Exchange): string | null {
  if (exchange.status < 400) return null;
  const id = errorIdOf(exchange.text);
  if (exchange.status === 500 || id === "internal_error")
    return `${exchange.request} → 500 ${exchange.text.slice(0, 300)}`;
  if (typeof id !== "string" || !KNOWN_ERRORS.has(id))
    return `${exchange.request} → ${exchange.status} without a stable error id: ${exchange.text.slice(0, 200)}`;
  return null;
}

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "100000" }, { logger: log.logger });
  world = await buildAccessWorld(server.mailward.services, server.baseUrl);
  for (const persona of PERSONAS) {
    const user = world.callers[persona].user;
    await archivedFor(world.db, user);
    await heldFor(world.db, user);
  }
  for (const owner of Object.values(world.owners)) {
    await archivedFor(world.db, owner);
    await heldFor(world.db, owner);
  }
  // What the plain requests of the review routes act on, made as their people make them (so their rows are whole):
  // three release requests each of two people (approvals, then denials, take them in turn), reports waiting for
  // triage, and three phishing holds of the agent's still to ask for (a plain request names one of the first three
  // of its pool).
  for (let i = 0; i < 3; i++) await heldFor(world.db, world.callers.agent.user, "phish");
  for (const persona of ["agent", "tenant_admin"] as const) {
    const user = world.callers[persona].user;
    for (let i = 0; i < 3; i++) {
      const phish = await heldFor(world.db, user, "phish");
      const asked = await call(persona, "POST", `/api/held/${phish.heldId}/request-release`, {
        note: "fuzz",
      });
      expect(asked.status, asked.text).toBe(200);
    }
    const { messageId } = await archivedFor(world.db, user);
    const message = await world.db
      .selectFrom("messages")
      .select("message_id")
      .where("id", "=", messageId)
      .executeTakeFirstOrThrow();
    const reported = await call(persona, "POST", "/api/reports", {
      kind: "phish",
      internetMessageId: message.message_id,
    });
    expect(reported.status, reported.text).toBeLessThan(300);
  }
  // An alias of the agent's, for the address routes to remove, and a message with attachments in each person's
  // mailbox (the newest, so the first in the archive routes' pools), for the attachment route to serve.
  const agent = world.callers.agent.user;
  const domain = await world.db
    .selectFrom("tenant_domains")
    .select("domain")
    .where("tenant_id", "=", agent.tenantId)
    .orderBy("domain")
    .executeTakeFirstOrThrow();
  const alias = await call("tenant_admin", "POST", `/api/admin/users/${agent.id}/addresses`, {
    address: `fuzz-alias@${domain.domain}`,
  });
  expect(alias.status, alias.text).toBeLessThan(300);
  for (const persona of PERSONAS) {
    const user = world.callers[persona].user;
    await buildArchivedMessage(world.db, {
      tenantId: user.tenantId,
      raw: mimeMessage({
        from: "Files <files@outside.example>",
        to: user.email,
        subject: "fuzz attachments",
        text: "Two files attached.",
        attachments: [
          { filename: "notes.txt", content: Buffer.from("Some notes."), contentType: "text/plain" },
          {
            filename: "invoice.pdf",
            content: Buffer.from("%PDF-1.4\n%fuzz\n"),
            contentType: "application/pdf",
          },
        ],
      }),
      links: [{ userId: user.id, folder: "inbox" }],
    });
  }
  personas = await snapshotPersonas(
    world.db,
    PERSONAS.map((p) => world.callers[p].user.id),
  );
});

afterAll(async () => {
  await server?.stop();
});

/** One request to send: who, and what (drawn from the route's schemas). */
interface Drawn {
  persona: SignedInPersona | null;
  method: string;
  path: string;
  body: unknown;
  /** Drawn to be of the right shape (every other request), not hostile. */
  plain: boolean;
}

/** `count` requests per caller of `route`: every other one plain (to reach its command), the rest hostile. */
async function draw(route: RouteSpec, seed: number, count: number): Promise<Drawn[]> {
  const callers = route.access.kind === "public" ? [null, "agent" as const] : PERSONAS;
  const rng: Rng = seededRng(seed ^ hash(`${route.method} ${route.path}`));
  const ids = await idPool(world.db);
  const emails = Object.values(world.callers)
    .map((c) => c.user.email)
    .concat(["nobody@example.com", "a@b", "x@elsewhere.test"]);
  const bodySchema = schemaOf(route.body);
  const querySchema = schemaOf(route.query);
  const paramsSchema = schemaOf(route.params);
  const drawn: Drawn[] = [];
  for (const persona of callers) {
    const { id: userId, tenantId } = world.callers[persona ?? "agent"].user;
    const domains = await world.db
      .selectFrom("tenant_domains")
      .select("domain")
      .where("tenant_id", "=", tenantId)
      .execute();
    const pools: InputPools = {
      ids,
      emails,
      domains: domains.map((r) => r.domain),
      messageIds: await messageIdPool(world.db, userId),
      params: await paramPool(world, route.path, userId),
    };
    for (let i = 0; i < count; i++) {
      const wrongness = i % 2 === 0 ? 0 : 12;
      const path =
        fillPath(route.path, rng, pools, wrongness === 0, paramsSchema) +
        (querySchema ? toQueryString(sampleValue(querySchema, rng, pools, wrongness)) : "");
      const body = bodySchema ? sampleValue(bodySchema, rng, pools, wrongness) : undefined;
      drawn.push({ persona, method: route.method.toUpperCase(), path, body, plain: wrongness === 0 });
    }
  }
  return drawn;
}

/** Sends one drawn request and says what is wrong with its answer (null: nothing), counting the routes reached. */
async function sendDrawn(route: RouteSpec, request: Drawn): Promise<string | null> {
  const exchange = await call(request.persona, request.method, request.path, request.body);
  if (exchange.status < 300) reached.set(route.path, (reached.get(route.path) ?? 0) + 1);
  else if (request.plain) {
    const refusals = plainRefusals.get(route.path) ?? new Map<string, { times: number; first: Exchange }>();
    const key = `${exchange.status} ${String(errorIdOf(exchange.text) ?? "(no id)")}`;
    const seen = refusals.get(key);
    refusals.set(key, { times: (seen?.times ?? 0) + 1, first: seen?.first ?? exchange });
    plainRefusals.set(route.path, refusals);
  }
  return problemWith(exchange);
}

describe("every API route, with inputs drawn from its own schemas", () => {
  // Routes that end the caller's own sessions or sign them out still answer; each request has a new session.
  // Public routes (sign-in, links, webhooks) are called by nobody as well.
  for (const route of apiRoutes) {
    it(`${route.method.toUpperCase()} ${route.path}`, HUNT, async () => {
      await restorePersonas(world.db, personas);
      const problems: string[] = [];
      for (const request of await draw(route, SEED, COUNT)) {
        const problem = await sendDrawn(route, request);
        if (problem) problems.push(problem);
      }
      expect(problems).toEqual([]);
    });
  }

  it(
    `every route at once, ${CONCURRENCY} requests at a time (two writers meeting: a deadlock or a unique index is a 500)`,
    HUNT,
    async () => {
      await restorePersonas(world.db, personas);
      const all: Array<{ route: RouteSpec; request: Drawn }> = [];
      for (const route of apiRoutes)
        for (const request of await draw(route, SEED + 1, Math.max(1, Math.floor(COUNT / 2))))
          all.push({ route, request });
      const rng = seededRng(SEED + 2);
      for (let i = all.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [all[i], all[j]] = [all[j]!, all[i]!];
      }
      const problems: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let item = all[next++]; item; item = all[next++]) {
            const problem = await sendDrawn(item.route, item.request);
            if (problem) problems.push(problem);
          }
        }),
      );
      expect(problems).toEqual([]);
    },
  );

  it("each change sent four times at once, as a double click does: never a 500", HUNT, async () => {
    const problems: string[] = [];
    for (const route of apiRoutes.filter((r) => r.method !== "get")) {
      await restorePersonas(world.db, personas);
      // Each person's plain requests (the even ones: COUNT of them, one at least), each sent four times together.
      const drawn = await draw(route, SEED + 3, Math.max(1, COUNT));
      const plain = drawn.filter((r, i) => r.persona !== null && (i % Math.max(1, COUNT)) % 2 === 0);
      for (const request of plain) {
        const answers = await Promise.all(Array.from({ length: 4 }, () => sendDrawn(route, request)));
        problems.push(...answers.filter((p): p is string => p !== null));
      }
    }
    expect(problems).toEqual([]);
  });

  it("got past validation to an answer of success on most routes (the inputs are not all refused at the door)", () => {
    const routes = new Set(apiRoutes.map((r) => r.path));
    const missed = [...routes].filter((r) => !reached.has(r));
    const why = (route: string) =>
      [...(plainRefusals.get(route) ?? [])]
        .sort((a, b) => b[1].times - a[1].times)
        .map(
          ([refusal, { times, first }]) =>
            `${refusal} ×${times}, first: ${first.request.slice(0, 160)} → ${first.text.slice(0, 240)}`,
        )
        .join("; ");
    console.log(
      `api fuzz: ${reached.size} of ${routes.size} paths answered 2xx at least once; not:\n` +
        missed.map((route) => `  ${route} (plain requests: ${why(route)})`).join("\n"),
    );
    // 2026-12-06: 70-72 of 84 with the fixed seed and count, 73-75 with other seeds, 76 at 16 and at 30 requests a route
    // (63 at 16 before each hunt started from the same people again: one request taking the tenant admin's role
    // left every later admin route answering 403).
    // The rest need what no drawn input has (a password, a reset link, a current TOTP code, Entra configured, DNS)
    // or a role that the plain requests' people rarely hold.
    expect(reached.size).toBeGreaterThanOrEqual(Math.floor(routes.size * 0.8));
  });

  it("logged no unexpected error while the routes were called", () => {
    const unexpected = log.lines.filter((line) => /unhandled|internal/i.test(line));
    expect(unexpected.map((l) => l.slice(0, 300))).toEqual([]);
  });
});

/** A small stable hash of a route's key, so each route draws its own inputs from the seed. */
function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
