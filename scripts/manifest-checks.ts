/**
 * Checks on the add-in manifest that the XSDs cannot express: every resid resolves to a resource of the
 * right kind, ids are unique, URLs are https, strings fit Office's documented limits, icons exist on disk
 * at the size declared, and the issue-7 product rules (ReadItem, Mailbox 1.1, V1_1 runtime, ...) hold.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { allElements, closest, parseXml, type XmlElement } from "./manifest-xml";

/** Where to look for files and which function names the commands bundle registers. */
export interface ManifestCheckOptions {
  /** Folder of the manifest being checked (dist/assets is found from dist/manifest.xml). */
  manifestDir: string;
  /** Repository root (addin/assets is found from here). */
  repoRoot: string;
  /** FunctionName values the commands entry registers. */
  functionNames: readonly string[];
}

/** One problem, with the manifest line it is on. */
export interface ManifestProblem {
  line: number;
  message: string;
}

type ResourceKind = "Images" | "Urls" | "ShortStrings" | "LongStrings";

/** Documented limits (learn.microsoft.com/javascript/api/manifest). */
export const LIMITS = { shortString: 125, longString: 250, resid: 32, controlId: 125 } as const;

const SHORT_STRING_PARENTS = new Set([
  "Label",
  "Title",
  "Option",
  "FreeTextLabel",
  "MoreInfoText",
  "Tooltip",
]);
const URL_PARENTS = new Set(["FunctionFile", "SourceLocation", "Runtime", "Override", "MoreInfoUrl"]);
const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REQUIRED_BUTTON_ICON_SIZES = [16, 32, 80];

function expectedKind(element: XmlElement): ResourceKind | null {
  if (element.local === "Image") return "Images";
  if (element.local === "Description") return "LongStrings";
  if (SHORT_STRING_PARENTS.has(element.local)) return "ShortStrings";
  if (URL_PARENTS.has(element.local)) return "Urls";
  return null;
}

interface Resource {
  kind: ResourceKind;
  value: string;
  line: number;
}

function collectResources(versionOverrides: XmlElement, problems: ManifestProblem[]): Map<string, Resource> {
  const resources = new Map<string, Resource>();
  const block = versionOverrides.children.find((child) => child.local === "Resources");
  if (!block) return resources;
  for (const group of block.children) {
    const kind = group.local as ResourceKind;
    for (const entry of group.children) {
      const id = entry.attrs.id ?? "";
      const value = entry.attrs.DefaultValue ?? "";
      if (resources.has(id)) problems.push({ line: entry.line, message: `duplicate resource id "${id}"` });
      resources.set(id, { kind, value, line: entry.line });
      if (id.length > LIMITS.resid) {
        problems.push({
          line: entry.line,
          message: `resource id "${id}" is longer than ${LIMITS.resid} characters`,
        });
      }
      const limit =
        kind === "ShortStrings" ? LIMITS.shortString : kind === "LongStrings" ? LIMITS.longString : null;
      const texts = [value, ...entry.children.map((override) => override.attrs.Value ?? "")];
      for (const text of texts) {
        if (limit !== null && text.length > limit) {
          problems.push({
            line: entry.line,
            message: `${kind} "${id}" is ${text.length} characters; the limit is ${limit}`,
          });
        }
      }
    }
  }
  return resources;
}

/** Reads the width and height from a PNG header, or null when the file is not a PNG. */
export function pngSize(path: string): { width: number; height: number } | null {
  const bytes = readFileSync(path);
  if (bytes.length < 24 || bytes.toString("latin1", 1, 4) !== "PNG") return null;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function checkIconFile(
  url: string,
  size: number | null,
  line: number,
  options: ManifestCheckOptions,
): string[] {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return [`"${url}" is not a URL`];
  }
  if (!pathname.startsWith("/assets/")) return [`icon ${url} must be served from /assets/`];
  const candidates = [join(options.repoRoot, "addin", pathname), join(options.manifestDir, pathname)];
  const file = candidates.find((candidate) => existsSync(candidate));
  if (!file) return [`icon ${url} has no file on disk (looked for ${candidates.join(" and ")})`];
  const dimensions = pngSize(file);
  if (!dimensions) return [`icon ${file} is not a PNG file`];
  if (size !== null && (dimensions.width !== size || dimensions.height !== size)) {
    return [
      `icon ${file} is ${dimensions.width}x${dimensions.height}, but line ${line} declares ${size}x${size}`,
    ];
  }
  return [];
}

function checkUrls(elements: XmlElement[], problems: ManifestProblem[]): void {
  for (const element of elements) {
    const values: string[] = [];
    const isResource = ["Images", "Urls"].includes(element.parent?.local ?? "");
    if (isResource || ["IconUrl", "HighResolutionIconUrl", "SupportUrl"].includes(element.local)) {
      values.push(element.attrs.DefaultValue ?? "");
    }
    if (element.local === "SourceLocation" && element.attrs.DefaultValue !== undefined) {
      values.push(element.attrs.DefaultValue);
    }
    if (
      element.local === "Override" &&
      element.attrs.Value !== undefined &&
      element.parent?.local !== "String"
    ) {
      values.push(element.attrs.Value);
    }
    if (element.local === "AppDomain") values.push(element.text);
    for (const value of values) {
      if (!value.startsWith("https://"))
        problems.push({ line: element.line, message: `URL "${value}" is not https` });
    }
  }
}

function checkProductRules(
  root: XmlElement,
  elements: XmlElement[],
  options: ManifestCheckOptions,
): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const need = (condition: boolean, message: string, line = root.line): void => {
    if (!condition) problems.push({ line, message });
  };
  const permissions = elements.find((e) => e.local === "Permissions" && e.parent === root);
  need(permissions?.text === "ReadItem", "Permissions must be ReadItem (least privilege)", permissions?.line);
  const baseSet = elements.find((e) => e.local === "Set" && closest(e, "Requirements")?.parent === root);
  need(
    baseSet?.attrs.Name === "Mailbox" && baseSet.attrs.MinVersion === "1.1",
    "the base requirement must be Mailbox 1.1",
    baseSet?.line,
  );
  const v11 = elements.find(
    (e) => e.local === "VersionOverrides" && e.attrs["xsi:type"] === "VersionOverridesV1_1",
  );
  need(
    v11 !== undefined && v11.parent?.attrs["xsi:type"] === "VersionOverridesV1_0",
    "VersionOverrides V1_0 must contain a V1_1",
  );
  if (!v11) return problems;
  const inV11 = allElements(v11);
  const runtime = inV11.find((e) => e.local === "Runtime");
  const functionFile = inV11.find((e) => e.local === "FunctionFile");
  need(runtime !== undefined, "V1_1 needs a Runtimes/Runtime");
  need(functionFile !== undefined, "V1_1 needs a FunctionFile");
  if (runtime && functionFile) {
    need(
      runtime.attrs.resid === functionFile.attrs.resid,
      "FunctionFile and Runtime must use the same resid",
      functionFile.line,
    );
  }
  const surfaces = inV11.filter((e) => e.local === "ExtensionPoint").map((e) => e.attrs["xsi:type"]);
  need(surfaces.includes("MessageReadCommandSurface"), "V1_1 needs a MessageReadCommandSurface");
  need(surfaces.includes("ReportPhishingCommandSurface"), "V1_1 needs a ReportPhishingCommandSurface");
  const reportSource = inV11.find(
    (e) => e.local === "SourceLocation" && closest(e, "ReportPhishingCustomization"),
  );
  if (reportSource && runtime) {
    need(
      reportSource.attrs.resid === runtime.attrs.resid,
      "the spam-reporting SourceLocation must be the Runtime's resid",
      reportSource.line,
    );
  }
  const actions = inV11.filter((e) => e.local === "Action");
  need(
    actions.some((a) => a.attrs["xsi:type"] === "ShowTaskpane"),
    "V1_1 needs a ShowTaskpane button",
  );
  for (const required of ["blockSender", "reportPhish"]) {
    need(
      inV11.some((e) => e.local === "FunctionName" && e.text === required),
      `V1_1 needs a ${required} button`,
    );
  }
  for (const name of elements.filter((e) => e.local === "FunctionName")) {
    need(
      options.functionNames.includes(name.text),
      `FunctionName "${name.text}" is not registered by addin/commands`,
      name.line,
    );
  }
  const webApp = inV11.find((e) => e.local === "WebApplicationInfo");
  need(webApp !== undefined, "V1_1 needs WebApplicationInfo for nested app auth");
  if (webApp) {
    const id = webApp.children.find((c) => c.local === "Id");
    const resource = webApp.children.find((c) => c.local === "Resource");
    need(GUID_RE.test(id?.text ?? ""), "WebApplicationInfo/Id must be a GUID", id?.line ?? webApp.line);
    need(
      (resource?.text ?? "").startsWith("api://"),
      "WebApplicationInfo/Resource must be an api:// URI",
      resource?.line ?? webApp.line,
    );
  }
  return problems;
}

/** Runs every custom check and returns the problems found (empty when the manifest is fine). */
export function checkManifest(xml: string, options: ManifestCheckOptions): ManifestProblem[] {
  const root = parseXml(xml);
  const elements = allElements(root);
  const problems: ManifestProblem[] = [];
  const resourcesByOverride = new Map<XmlElement, Map<string, Resource>>();
  for (const overrides of elements.filter((e) => e.local === "VersionOverrides")) {
    resourcesByOverride.set(overrides, collectResources(overrides, problems));
    const ids = new Map<string, number>();
    for (const element of allElements(overrides)) {
      if (!["Control", "Group", "CustomTab"].includes(element.local)) continue;
      if (closest(element, "VersionOverrides") !== overrides) continue;
      const id = element.attrs.id ?? "";
      const seen = ids.get(id);
      if (seen !== undefined)
        problems.push({ line: element.line, message: `id "${id}" is already used on line ${seen}` });
      else ids.set(id, element.line);
      if (id.length > LIMITS.controlId)
        problems.push({ line: element.line, message: `id "${id}" is too long` });
    }
  }
  for (const element of elements) {
    const resid = element.attrs.resid;
    if (resid === undefined) continue;
    if (resid.length > LIMITS.resid) {
      problems.push({
        line: element.line,
        message: `resid "${resid}" is longer than ${LIMITS.resid} characters`,
      });
    }
    const overrides = closest(element, "VersionOverrides");
    const resource = overrides ? resourcesByOverride.get(overrides)?.get(resid) : undefined;
    const kind = expectedKind(element);
    if (!resource) {
      problems.push({
        line: element.line,
        message: `resid "${resid}" on <${element.name}> does not resolve`,
      });
    } else if (kind && resource.kind !== kind) {
      problems.push({
        line: element.line,
        message: `resid "${resid}" on <${element.name}> must name a ${kind} entry, not ${resource.kind}`,
      });
    } else if (element.local === "Image" && element.parent?.local === "Icon") {
      const size = Number(element.attrs.size);
      for (const message of checkIconFile(resource.value, size, element.line, options)) {
        problems.push({ line: element.line, message });
      }
    }
  }
  for (const icon of elements.filter((e) => e.local === "Icon")) {
    const sizes = icon.children.map((image) => Number(image.attrs.size));
    const missing = REQUIRED_BUTTON_ICON_SIZES.filter((size) => !sizes.includes(size));
    if (missing.length > 0)
      problems.push({ line: icon.line, message: `icon is missing sizes ${missing.join(", ")}` });
  }
  for (const [local, size] of [
    ["IconUrl", 64],
    ["HighResolutionIconUrl", 128],
  ] as const) {
    const element = elements.find((e) => e.local === local && e.parent === root);
    if (!element) problems.push({ line: root.line, message: `<${local}> is missing` });
    else
      for (const message of checkIconFile(element.attrs.DefaultValue ?? "", size, element.line, options)) {
        problems.push({ line: element.line, message });
      }
  }
  for (const [local, limit] of [
    ["DisplayName", LIMITS.shortString],
    ["Description", LIMITS.longString],
  ] as const) {
    const element = elements.find((e) => e.local === local && e.parent === root);
    const value = element?.attrs.DefaultValue ?? "";
    if (element && value.length > limit) {
      problems.push({
        line: element.line,
        message: `${local} is ${value.length} characters; the limit is ${limit}`,
      });
    }
  }
  checkUrls(elements, problems);
  problems.push(...checkProductRules(root, elements, options));
  return problems.sort((a, b) => a.line - b.line);
}
