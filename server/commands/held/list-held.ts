import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from "kysely";
import type { Database, HeldItemsTable } from "../../db/schema";
import type { Actor } from "../../context";
import { ApiError } from "../../http/errors";
import { readAnyReachOf } from "../../policies/mail";
import { inTeamsOfOwnGroup } from "../../db/team-members";
import { normalizeDomain } from "../../mail/scan/sender-patterns";
import { canonicalAddress } from "../../mail/scan/domains";
import type { HeldListQuery, HeldSort, HeldStatus } from "../../../shared/schemas/held";
import { decodeCursor, encodeCursor, likeEscape } from "./cursor";
import { addressedToPerson, cappedCount, HELD_ITEM_COLUMNS, type HeldRow } from "./queries";

/** A page of held items and the cursor of the next page. */
export interface HeldPage {
  rows: HeldRow[];
  nextCursor: string | null;
}

/** The teams an actor leads (team_lead grants scoped to a team of their own group: RoleGrant.inGroup). */
export function ledTeamIds(actor: Actor): string[] {
  const ids = actor.grants
    .filter((g) => g.inGroup && g.role === "team_lead" && g.scope === "team")
    .map((g) => g.scopeId ?? actor.teamId)
    .filter((id): id is string => typeof id === "string");
  return [...new Set(ids)];
}

/** Per sort: the column (of the held items `h`), direction, how the cursor value is read back, and its SQL cast. */
const SORTS: Record<
  HeldSort,
  { column: "h.created_at" | "h.expires_at" | "h.score"; dir: "asc" | "desc"; cast: "timestamptz" | "float8" }
> = {
  newest: { column: "h.created_at", dir: "desc", cast: "timestamptz" },
  oldest: { column: "h.created_at", dir: "asc", cast: "timestamptz" },
  expiring: { column: "h.expires_at", dir: "asc", cast: "timestamptz" },
  score: { column: "h.score", dir: "desc", cast: "float8" },
};

/** The sort's column in the page `p` read from the held items (`h.score` → `p.score`). */
function pageColumn(column: (typeof SORTS)[HeldSort]["column"]): "p.created_at" | "p.expires_at" | "p.score" {
  const field = column.slice(2) as "created_at" | "expires_at" | "score";
  return `p.${field}`;
}

/**
 * Lists the held items the actor may see: their own and their groups', plus (team leads) their
 * team's, or the whole tenant for a security admin's `review` scope. Filters by
 * status, reason, sender (address or domain), free text and date range; keyset
 * paging per sort order, so a page costs the same at any depth. An open item past its expiry is expired (as the
 * presenter shows it) whether or not the expiry job has marked it yet: see statusFilter.
 */
export async function listHeld(
  db: Kysely<Database>,
  actor: Actor,
  query: HeldListQuery,
  now: Date,
): Promise<HeldPage> {
  const sort = SORTS[query.sort];
  const rows = await (await heldPageStatement(db, actor, query, now)).execute();
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  const nextCursor =
    rows.length > query.limit && last
      ? encodeCursor({
          sort: query.sort,
          value: sort.cast === "float8" ? Number(last.sort_key) : last.sort_key,
          id: last.id,
        })
      : null;
  return { rows: page as unknown as HeldRow[], nextCursor };
}

/**
 * How many held items the list would show the actor with these filters, counted up to `cap` (the Held tab's badge):
 * the list's own statement, so the count and the list cannot disagree, without sending the rows.
 */
export async function countHeld(
  db: Kysely<Database>,
  actor: Actor,
  filters: Omit<HeldListQuery, "cursor" | "limit" | "sort">,
  now: Date,
  cap: number,
): Promise<{ count: number; more: boolean }> {
  // The page statement reads one row past its limit: cap + 1.
  const page = await heldPageStatement(db, actor, { ...filters, sort: "newest", limit: cap }, now);
  return cappedCount(db, page.as("c"), cap);
}

/**
 * The one statement behind a page of the held list (one row past the page, to tell whether there is a next): listHeld
 * runs it, and the index tests read its plan. Throws `forbidden` for a scope the actor may not list.
 */
export async function heldPageStatement(db: Kysely<Database>, actor: Actor, query: HeldListQuery, now: Date) {
  const sort = SORTS[query.sort];
  const teams = ledTeamIds(actor);
  const scope = query.scope;
  if (scope === "team" && teams.length === 0)
    throw new ApiError("forbidden", "Only a team lead can list a team's held messages.");
  if (
    scope === "review" &&
    !actor.permissions.has("held.approve_release") &&
    !actor.permissions.has("held.read_any")
  ) {
    throw new ApiError(
      "forbidden",
      "Only a security admin can review the whole organisation's held messages.",
    );
  }
  // A team's members of the team's own partner group: a row from before that rule leaks to no other group's lead.
  const teamMembers = (ids: string[]) =>
    db
      .selectFrom("users")
      .select("users.id")
      .where("users.tenant_id", "=", actor.tenantId)
      .where((eb) => inTeamsOfOwnGroup(eb, ids));

  // Group mail (no user of its own) to the actor's groups is theirs too.
  const groups = scope === "team" || scope === "review" ? [] : actor.groupAddresses;
  const mine = (eb: ExpressionBuilder<{ h: HeldItemsTable }, "h">) =>
    addressedToPerson(eb, actor.userId, groups);

  // The caller's held items with every filter that needs only held_items (served by the per-person indexes).
  let held = db.selectFrom("held_items as h").selectAll("h").where("h.tenant_id", "=", actor.tenantId);
  if (scope === "mine" || (scope === undefined && teams.length === 0)) held = held.where(mine);
  else if (scope === "team")
    held = held.where("h.user_id", "in", teamMembers(teams)).where("h.user_id", "!=", actor.userId);
  else if (scope === undefined)
    held = held.where((eb) => eb.or([mine(eb), eb("h.user_id", "in", teamMembers(teams))]));
  else if (scope === "review") {
    // As far as reading others' mail reaches: a partner (BPO) investigator's own partner group, not the tenant.
    const reach = readAnyReachOf(actor);
    if (reach.kind === "groups")
      held = held.where("h.user_id", "in", reachedMembers(db, actor, reach.teamIds, reach.partnerIds));
  }
  const status = query.status;
  if (status) held = held.where((eb) => statusFilter(eb, status, now));
  if (query.reason) held = held.where("h.reason", "=", query.reason);
  if (query.receivedAfter) held = held.where("h.created_at", ">=", new Date(query.receivedAfter));
  if (query.receivedBefore) held = held.where("h.created_at", "<", new Date(query.receivedBefore));
  if (query.cursor) {
    const at = decodeCursor(query.cursor, query.sort, sort.cast === "float8" ? "number" : "timestamp");
    const op = sql.raw(sort.dir === "desc" ? "<" : ">");
    const value =
      sort.cast === "float8" ? sql`${Number(at.value)}::float8` : sql`${String(at.value)}::timestamptz`;
    held = held.where(sql<SqlBool>`(${sql.ref(sort.column)}, h.id) ${op} (${value}, ${at.id}::uuid)`);
  }
  if (query.sender) held = held.where(senderFilter(query.sender));
  if (query.recipient) held = held.where(await recipientFilter(db, actor.tenantId, query.recipient));
  // Free text looks at the message. The planner cannot estimate ILIKE and would hash-join a scan of
  // every archived message (100k messages: 125 ms; an archive grows without end). OFFSET 0 fences the
  // person's held items so they are read first, and the fenced LATERAL fetches each one's message by
  // primary key (a nested loop over the person's items, whatever the archive's size: 100k messages, 17 ms).
  const textFilter = query.q !== undefined;
  const messageOf = (eb: ExpressionBuilder<Database & { h: HeldItemsTable }, "h">) =>
    eb
      .selectFrom("messages as mm")
      .select(["mm.from_address", "mm.from_name", "mm.subject"])
      .whereRef("mm.id", "=", "h.message_id")
      .offset(0)
      .as("m");
  const ordered = held.orderBy(sort.column, sort.dir).orderBy("h.id", sort.dir);
  const joined = textFilter
    ? // Read in the page's order, so a common match stops after one page instead of sorting them all.
      db.selectFrom(ordered.offset(0).as("h")).innerJoinLateral(messageOf, (join) => join.onTrue())
    : // Every other filter is on held_items: the page's held items are chosen first, then only their messages read
      // (every held item has one). With the join between the sort and the LIMIT, a sort no index serves (a review's
      // `sort=expiring` or `score`) could not keep just the page's rows: it sorted every candidate on disk.
      db
        .selectFrom(ordered.limit(query.limit + 1).as("h"))
        .innerJoin("messages as m", "m.id", "h.message_id");

  let q = joined.select([
    ...HELD_ITEM_COLUMNS,
    "m.from_address",
    "m.from_name",
    "m.subject",
    sql<string>`${sql.ref(sort.column)}::text`.as("sort_key"),
  ]);
  if (query.q) {
    const like = `%${likeEscape(query.q)}%`;
    q = q.where(
      sql<SqlBool>`(m.subject ILIKE ${like} ESCAPE '\\' OR m.from_address ILIKE ${like} ESCAPE '\\' OR m.from_name ILIKE ${like} ESCAPE '\\')`,
    );
  }
  const pageRows = q
    .orderBy(sort.column, sort.dir)
    .orderBy("h.id", sort.dir)
    .limit(query.limit + 1)
    .as("p");
  // The recipient's team, its partner group and their own (as heldSelect reads them), joined to the page's rows only,
  // by primary key. Joined before the LIMIT they are read for every candidate row: a team lead's 2,500 held items read
  // twice the buffers (PostgreSQL, 52,000 people), or hash-joined a scan of every organisation's people.
  return db
    .selectFrom(pageRows)
    .leftJoin("users as u", "u.id", "p.user_id")
    .leftJoin("teams as ut", "ut.id", "u.team_id")
    .selectAll("p")
    .select([
      "u.team_id as recipient_team_id",
      "ut.partner_id as recipient_team_partner_id",
      "u.partner_id as recipient_partner_id",
    ])
    .orderBy(pageColumn(sort.column), sort.dir)
    .orderBy("p.id", sort.dir);
}

const OPEN_STATUSES = ["held", "release_requested"] as const;

/**
 * `status=` as the person sees it at `now`: an open item (held, release requested) whose expiry has passed is expired
 * before the expiry job marks it (its actions answer 410), so it is listed under `expired`, not under its stored status.
 */
function statusFilter(
  eb: ExpressionBuilder<{ h: HeldItemsTable }, "h">,
  status: HeldStatus,
  now: Date,
): Expression<SqlBool> {
  if (status === "held" || status === "release_requested")
    return eb.and([eb("h.status", "=", status), eb("h.expires_at", ">", now)]);
  if (status === "expired")
    return eb.or([
      eb("h.status", "=", "expired"),
      eb.and([eb("h.status", "in", [...OPEN_STATUSES]), eb("h.expires_at", "<=", now)]),
    ]);
  return eb("h.status", "=", status);
}

/** The people of some teams and partner groups of the actor's tenant, and the actor: whom a grouped reach covers. */
function reachedMembers(db: Kysely<Database>, actor: Actor, teamIds: string[], partnerIds: string[]) {
  return db
    .selectFrom("users")
    .select("users.id")
    .where("users.tenant_id", "=", actor.tenantId)
    .where((eb) =>
      eb.or([
        eb("users.id", "=", actor.userId),
        ...(teamIds.length ? [inTeamsOfOwnGroup(eb, teamIds)] : []),
        ...(partnerIds.length ? [eb("users.partner_id", "in", partnerIds)] : []),
      ]),
    );
}

/**
 * `recipient=`: every hold of the person at that address (their primary address or an alias: their holds include
 * mail to their plus addresses and other aliases too), or the group mail sent to it. The person is looked up first:
 * as a subquery PostgreSQL checked it against every held item of the organisation, newest first, instead of reading
 * the person's own through their index.
 */
async function recipientFilter(db: Kysely<Database>, tenantId: string, recipient: string) {
  const address = canonicalAddress(recipient.trim().toLowerCase());
  const people = await db
    .selectFrom("users")
    .select("users.id")
    .where("users.tenant_id", "=", tenantId)
    .where(sql<string>`lower(users.email)`, "=", address)
    .union(
      db
        .selectFrom("user_addresses")
        .select("user_addresses.user_id as id")
        .where("user_addresses.tenant_id", "=", tenantId)
        .where("user_addresses.address", "=", address),
    )
    .execute();
  const ids = people.map((p) => p.id);
  const group = (eb: ExpressionBuilder<{ h: HeldItemsTable }, "h">) =>
    eb.and([eb("h.user_id", "is", null), eb("h.recipient", "=", address)]);
  return (eb: ExpressionBuilder<{ h: HeldItemsTable }, "h">) =>
    ids.length === 0 ? group(eb) : eb.or([eb("h.user_id", "in", ids), group(eb)]);
}

/**
 * `sender=a@b.com` matches that address; `sender=b.com` the domain and its subdomains. Either may be typed with an
 * internationalised domain in Unicode: the archive keeps addresses with their domains in punycode. Read on the held
 * item's copy of its message's lower-case From address (migration 3330), reversed, as its index holds it: the domain
 * `b.com` is the addresses starting `moc.b@` or `moc.b.` (the same rows as ending `@b.com` or `.b.com`), a range.
 */
function senderFilter(sender: string): Expression<SqlBool> {
  const text = sender.trim().toLowerCase();
  if (text.includes("@")) return sql<SqlBool>`reverse(h.from_lower) = reverse(${canonicalAddress(text)})`;
  const domain = normalizeDomain(text.replace(/^\*\./, "")) ?? text;
  // Reversed before escaping (an escape goes before its character), by code point as PostgreSQL's reverse() does.
  const escaped = likeEscape([...domain].reverse().join(""));
  return sql<SqlBool>`(reverse(h.from_lower) LIKE ${`${escaped}@%`} ESCAPE '\\' OR reverse(h.from_lower) LIKE ${`${escaped}.%`} ESCAPE '\\')`;
}
