import { applySelect, compileFilter, intOption, selectList } from "./odata";
import type { RouteContext } from "./router";
import { GraphError, jsonResponse, type GraphRequest, type GraphResponse } from "./types";

/** How a collection is served: its OData type and default order. */
export interface CollectionSpec {
  typeName: string;
  contextPath: string;
  /** Default $orderby, e.g. "receivedDateTime desc". */
  defaultOrder?: string;
  maxTop?: number;
  /**
   * How $select applies to one item, for collections of several types (directoryObjects): by default a property
   * the item lacks is Graph's 400.
   */
  select?: (item: Record<string, unknown>, select: string[]) => Record<string, unknown>;
}

/**
 * Serves a collection like Graph: $filter, $orderby, $top (default page size, max 1000), $skip,
 * $select, and an absolute `@odata.nextLink` (pointing at this fake) while more items remain.
 */
export function collectionResponse(
  ctx: RouteContext,
  req: GraphRequest,
  items: Record<string, unknown>[],
  spec: CollectionSpec,
): GraphResponse {
  let selected = items;
  const filter = req.query.get("$filter");
  if (filter) {
    const predicate = compileFilter(filter);
    selected = selected.filter(predicate);
  }
  const order = req.query.get("$orderby") ?? spec.defaultOrder;
  if (order) selected = sortBy(selected, order);
  const top = Math.min(
    intOption(req.query, "$top") ?? ctx.options.pageSize,
    spec.maxTop ?? 1000,
    ctx.options.maxPageSize,
  );
  if (top === 0) throw new GraphError(400, "BadRequest", "Invalid value '0' for query option $top.");
  const skip = intOption(req.query, "$skip") ?? 0;
  const page = selected.slice(skip, skip + top);
  const select = selectList(req.query);
  const body: Record<string, unknown> = {
    "@odata.context": `${ctx.linkBase()}/$metadata#${spec.contextPath}`,
    value: page.map((item) =>
      select && spec.select ? spec.select(item, select) : applySelect(item, select, spec.typeName),
    ),
  };
  if (skip + top < selected.length) {
    const query = new URLSearchParams(req.query);
    query.set("$top", String(top));
    query.set("$skip", String(skip + top));
    body["@odata.nextLink"] = `${ctx.linkBase()}${encodePath(req.path)}?${query.toString()}`;
  }
  return jsonResponse(200, body);
}

/** Sorts by `prop [asc|desc]` (first clause only), ties broken by id for stable paging. */
function sortBy(items: Record<string, unknown>[], order: string): Record<string, unknown>[] {
  const [property = "", direction = "asc"] = order.trim().split(/\s+/);
  const sign = direction.toLowerCase() === "desc" ? -1 : 1;
  const key = (item: Record<string, unknown>): string => {
    const value = item[property];
    return typeof value === "string" ? value : JSON.stringify(value ?? "");
  };
  return [...items].sort((a, b) => {
    const primary = key(a).localeCompare(key(b)) * sign;
    return primary !== 0 ? primary : String(a.id).localeCompare(String(b.id));
  });
}

/** Percent-encodes each path segment for links. */
export function encodePath(path: string): string {
  return path
    .split("/")
    .map((segment) => encodeURIComponent(segment))
    .join("/");
}
