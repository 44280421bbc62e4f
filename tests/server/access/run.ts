import {
  SIGNED_IN_PERSONAS,
  OWNERS,
  type AccessCase,
  type AccessRequest,
  type AccessWorld,
  type Caller,
  type CallerCase,
  type Owner,
  type Persona,
  type ResourceCase,
  type WorldUser,
} from "./types";

/** What one request answered. */
interface Answer {
  status: number;
  error: string | null;
}

/** Splits `GET /api/x/:id` into method and path. */
export function parseRouteKey(route: string): { method: string; path: string } {
  const [method, path] = route.split(" ");
  if (!method || !path) throw new Error(`bad route key "${route}"`);
  return { method, path };
}

async function send(
  world: AccessWorld,
  method: string,
  request: AccessRequest,
  caller: Caller | null,
): Promise<Answer> {
  const headers: Record<string, string> = { ...request.headers };
  if (caller) {
    const session = request.freshSession ? await world.newSession(caller.user) : caller;
    headers.cookie = session.cookie;
    headers["x-csrf-token"] = session.csrf;
  }
  if (request.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${world.baseUrl}${request.path}`, {
    method,
    headers,
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
    redirect: "manual",
  });
  if (caller && request.endsOtherSessions) Object.assign(caller, await world.newSession(caller.user));
  const text = await res.text();
  let error: string | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && "error" in parsed)
      error = String((parsed as { error: unknown }).error);
  } catch {
    error = null;
  }
  return { status: res.status, error };
}

function describeMismatch(who: string, expected: number | readonly number[], answer: Answer): string {
  return `${who}: expected ${Array.isArray(expected) ? expected.join("|") : String(expected)}, got ${answer.status}${answer.error ? ` ${answer.error}` : ""}`;
}

function matches(expected: number | readonly number[], status: number): boolean {
  return typeof expected === "number" ? expected === status : expected.includes(status);
}

async function runCallerCase(world: AccessWorld, c: CallerCase, isPublic: boolean): Promise<string[]> {
  const { method, path } = parseRouteKey(c.route);
  const problems: string[] = [];
  const personas: Persona[] = ["anonymous", ...SIGNED_IN_PERSONAS];
  for (const persona of personas) {
    const caller = persona === "anonymous" ? null : world.callers[persona];
    const expected = c.expect[persona] ?? (persona === "anonymous" && !isPublic ? 401 : c.expect.default);
    if (expected === undefined) {
      problems.push(`${persona}: no expectation declared`);
      continue;
    }
    const request = c.request ? await c.request({ world, caller }) : { path };
    const answer = await send(world, method, request, caller);
    if (!matches(expected, answer.status)) problems.push(describeMismatch(persona, expected, answer));
  }
  return problems;
}

function expectedFor(
  c: ResourceCase,
  persona: (typeof SIGNED_IN_PERSONAS)[number],
  owner: Owner,
): number | readonly number[] {
  if (c.forbidden?.includes(persona)) return 403;
  if (c.allow[owner]?.includes(persona)) return c.success ?? 200;
  if (c.deny?.[owner]?.includes(persona)) return 403;
  return 404;
}

async function runResourceCase(world: AccessWorld, c: ResourceCase): Promise<string[]> {
  const { method } = parseRouteKey(c.route);
  const problems: string[] = [];
  const owners = c.owners ?? OWNERS;
  const shared = new Map<string, AccessRequest>();
  const ownerFor = async (owner: Owner, caller: Caller): Promise<WorldUser> => {
    if (owner === "self") return caller.user;
    return c.shared ? world.owners[owner] : world.cloneOwner(owner);
  };
  const requestFor = async (owner: WorldUser, caller: Caller): Promise<AccessRequest> => {
    if (!c.shared) return c.setup({ world, owner, caller });
    const cached = shared.get(owner.id);
    if (cached) return cached;
    const made = await c.setup({ world, owner, caller });
    shared.set(owner.id, made);
    return made;
  };
  // Nobody signed in: 401 (checked on a resource that exists).
  const anyone = world.callers.agent;
  const anonymous = await send(
    world,
    method,
    await requestFor(await ownerFor("teammate", anyone), anyone),
    null,
  );
  if (anonymous.status !== 401) problems.push(describeMismatch("anonymous", 401, anonymous));
  for (const persona of SIGNED_IN_PERSONAS) {
    const caller = world.callers[persona];
    for (const owner of owners) {
      const request = await requestFor(await ownerFor(owner, caller), caller);
      const answer = await send(world, method, request, caller);
      const expected = expectedFor(c, persona, owner);
      if (!matches(expected, answer.status))
        problems.push(describeMismatch(`${persona} × ${owner}`, expected, answer));
    }
  }
  return problems;
}

/** Runs one case and returns every mismatch, readable ("agent × other_team: expected 404, got 200"). */
export function runAccessCase(world: AccessWorld, c: AccessCase, isPublic: boolean): Promise<string[]> {
  return c.kind === "caller" ? runCallerCase(world, c, isPublic) : runResourceCase(world, c);
}
