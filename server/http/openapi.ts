import { z } from "zod";
import { ERRORS } from "../../shared/errors";
import { BODY_LIMITS } from "./body-limit";
import type { RouteSpec } from "./route-table";

type JsonSchema = Record<string, unknown>;

function toSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** `/api/held/:id` → `/api/held/{id}`. */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function parametersOf(route: RouteSpec): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [
    ["path", route.params],
    ["query", route.query],
  ] as const) {
    if (!schema) continue;
    const json = toSchema(schema, "input");
    const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries(properties)) {
      out.push({ name, in: where, required: where === "path" || required.has(name), schema: property });
    }
  }
  return out;
}

/**
 * Generates the OpenAPI 3.1 document from the route table: the same zod
 * schemas that validate requests document them, so the two cannot drift.
 */
export function buildOpenApi(routes: readonly RouteSpec[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const responses: Record<string, JsonSchema> = {
      "200": route.produces
        ? {
            description: "OK",
            content: { [route.produces]: { schema: { type: "string", format: "binary" } } },
          }
        : {
            description: "OK",
            content: route.response
              ? { "application/json": { schema: toSchema(route.response, "output") } }
              : {},
          },
      default: {
        description: "An error: { error, message, details? } with a stable id",
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      },
    };
    const operation: JsonSchema = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method}_${route.path.replace(/[^A-Za-z0-9]+/g, "_")}`,
      parameters: parametersOf(route),
      responses,
      "x-access": route.access,
      security: route.access.kind === "public" ? [] : [{ session: [] }, { entra: [] }],
    };
    if (route.body) {
      const limit = route.bodyLimit ?? BODY_LIMITS.default;
      operation.requestBody = {
        required: true,
        description: `At most ${limit} bytes: a larger body is refused with 413 payload_too_large, unread.`,
        content: { "application/json": { schema: toSchema(route.body, "input") } },
      };
    }
    const key = openApiPath(route.path);
    paths[key] = { ...(paths[key] ?? {}), [route.method]: operation };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Mailward API", version },
    paths,
    components: {
      securitySchemes: {
        session: { type: "apiKey", in: "cookie", name: "mw_session" },
        entra: { type: "http", scheme: "bearer", bearerFormat: "JWT (Entra ID v2 access token)" },
      },
      schemas: {
        Error: {
          type: "object",
          required: ["error", "message"],
          properties: {
            error: { type: "string", enum: Object.keys(ERRORS) },
            message: { type: "string" },
            details: {},
          },
        },
      },
    },
  };
}
