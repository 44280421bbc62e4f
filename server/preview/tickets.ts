import { createHmac, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import { z } from "zod";
import { loadActor } from "../auth/actor";
import type { Actor, Services } from "../context";
import type { Database } from "../db/schema";
import { tenantSigningKey } from "../auth/tenant-signing-keys";
import { ApiError } from "../http/errors";

/**
 * Preview tickets: the credential in a preview's URL. The add-in and portal show a message body in an iframe whose
 * `src` is the preview route, so the document keeps its own CSP (a srcdoc document would inherit the app's). An
 * iframe's request carries no Authorization header, and inside Outlook no session cookie either (a cross-site
 * frame), so the detail the person just opened hands out a URL with a ticket: signed by a tenant key, for one
 * message, one images choice and one person (and their session, if they came with one), for a few minutes.
 * Redeeming it loads the person again, so a disabled account, a signed-out session or lost access stops it.
 */

/** What one preview shows: a held or an archived message, with or without its remote images. */
export interface PreviewTarget {
  kind: "held" | "archive";
  id: string;
  images: boolean;
}

/**
 * How long a preview URL works: the frame loads it at once, but a detail the query cache kept (up to five
 * minutes) shows its old URL until it is read again.
 */
export const PREVIEW_TICKET_TTL_MS = 10 * 60_000;

const SECRET_NAME = "preview-tickets";
const TICKET_RE = /^([A-Za-z0-9_-]{1,2000})\.([A-Za-z0-9_-]{43})$/;

const claimsSchema = z.object({
  v: z.literal(1),
  kind: z.enum(["held", "archive"]),
  id: z.string().max(100),
  images: z.boolean(),
  user: z.string().max(100),
  tenant: z.string().max(100),
  via: z.enum(["session", "bearer"]),
  session: z.string().max(200).nullable(),
  exp: z.number().int(),
});
type Claims = z.infer<typeof claimsSchema>;

type Db = Kysely<Database>;

function mac(secret: Buffer, payload: string): string {
  return createHmac("sha256", secret).update(`preview-ticket|${payload}`).digest("base64url");
}

/** A ticket for the actor to load one preview (see the module comment). */
export async function issuePreviewTicket(
  db: Db,
  actor: Actor,
  target: PreviewTarget,
  now: Date,
  serverKey: Buffer,
): Promise<string> {
  if (actor.via === "system") throw new Error("preview tickets are for people");
  const claims: Claims = {
    v: 1,
    kind: target.kind,
    id: target.id,
    images: target.images,
    user: actor.userId,
    tenant: actor.tenantId,
    via: actor.via,
    session: actor.sessionId ?? null,
    exp: now.getTime() + PREVIEW_TICKET_TTL_MS,
  };
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const secret = await tenantSigningKey(db, actor.tenantId, SECRET_NAME, serverKey, true);
  if (!secret) throw new Error("no preview ticket key");
  return `${payload}.${mac(secret, payload)}`;
}

/** The URL (path and query) that serves one preview to the holder of `ticket`. */
export function previewPath(target: PreviewTarget, ticket: string): string {
  const query = new URLSearchParams({ images: target.images ? "show" : "block", ticket });
  return `/api/${target.kind}/${encodeURIComponent(target.id)}/preview?${query.toString()}`;
}

/** Issues a ticket and returns the preview's URL with it, for the detail the actor is being sent. */
export async function previewUrlFor(
  services: Services,
  actor: Actor,
  target: PreviewTarget,
): Promise<string> {
  const ticket = await issuePreviewTicket(services.db, actor, target, services.now(), services.secretKey);
  return previewPath(target, ticket);
}

function parseClaims(payload: string): Claims | null {
  try {
    const parsed = claimsSchema.safeParse(JSON.parse(Buffer.from(payload, "base64url").toString("utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

async function sessionIsLive(db: Db, claims: Claims, now: Date): Promise<boolean> {
  if (claims.session === null) return true;
  const session = await db
    .selectFrom("sessions")
    .select("expires_at")
    .where("id", "=", claims.session)
    .where("user_id", "=", claims.user)
    .executeTakeFirst();
  return session !== undefined && new Date(session.expires_at) > now;
}

/**
 * The person a ticket stands for, if it is genuine, unexpired, for exactly this preview, and its person (and
 * session) still active; otherwise a 401 the frame shows. Their permissions are checked afterwards as usual.
 */
export async function redeemPreviewTicket(
  db: Db,
  ticket: string,
  target: PreviewTarget,
  now: Date,
  serverKey: Buffer,
): Promise<Actor> {
  const refused = new ApiError(
    "unauthenticated",
    "This preview has expired. Open the message again to see it.",
  );
  const match = TICKET_RE.exec(ticket);
  const claims = match?.[1] ? parseClaims(match[1]) : null;
  if (!match?.[1] || !match[2] || !claims) throw refused;
  const secret = await tenantSigningKey(db, claims.tenant, SECRET_NAME, serverKey, false);
  const expected = Buffer.from(secret ? mac(secret, match[1]) : "");
  const given = Buffer.from(match[2]);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw refused;
  const forThis = claims.kind === target.kind && claims.id === target.id && claims.images === target.images;
  if (!forThis || claims.exp <= now.getTime() || !(await sessionIsLive(db, claims, now))) throw refused;
  const actor = await loadActor(db, claims.user, claims.via, claims.session ?? undefined);
  if (!actor || actor.tenantId !== claims.tenant) throw refused;
  return actor;
}

/**
 * A preview route's `authenticateBy`: the person the URL's ticket stands for, checked for exactly this preview (its
 * kind, id and images choice), or null when the URL carries no ticket (a signed-in request then applies).
 */
export function byPreviewTicket(kind: PreviewTarget["kind"]) {
  return async (input: {
    params: { id: string };
    query: { ticket?: string | undefined; images?: string | undefined };
    services: Services;
  }): Promise<Actor | null> => {
    const { params, query, services } = input;
    if (query.ticket === undefined) return null;
    const target = { kind, id: params.id, images: query.images === "show" };
    return redeemPreviewTicket(services.db, query.ticket, target, services.now(), services.secretKey);
  };
}
