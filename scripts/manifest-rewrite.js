/**
 * Rewrites the development manifest for a deployment: the dev origin https://localhost:3000 becomes
 * MAILWARD_PUBLIC_URL (plus its host in the api:// resource), and the placeholder Entra client id becomes
 * MAILWARD_ENTRA_CLIENT_ID. Plain JS so webpack.config.js can load it without a TypeScript loader.
 */

/** The origin every URL in manifest.xml uses during development. */
export const DEV_ORIGIN = "https://localhost:3000";

/** The Entra client id placeholder in manifest.xml (WebApplicationInfo/Id and Resource). */
export const PLACEHOLDER_CLIENT_ID = "8e3c5bd4-0a6f-4c1e-9f0d-6d61a1ea0c5e";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Returns the manifest with production values. Throws when the public URL is not https (Office refuses
 * http add-ins) or the client id is not a GUID.
 * @param {string} xml the manifest text
 * @param {{ publicUrl?: string | undefined, clientId?: string | undefined }} settings
 * @returns {string}
 */
export function rewriteManifest(xml, settings) {
  let out = xml;
  if (settings.publicUrl) {
    const url = new URL(settings.publicUrl);
    if (url.protocol !== "https:")
      throw new Error(`MAILWARD_PUBLIC_URL must be https (got ${settings.publicUrl})`);
    const base = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
    out = out.split(DEV_ORIGIN).join(base);
    out = out.split("api://localhost:3000/").join(`api://${url.host}/`);
  }
  if (settings.clientId) {
    if (!GUID.test(settings.clientId))
      throw new Error(`MAILWARD_ENTRA_CLIENT_ID must be a GUID (got ${settings.clientId})`);
    out = out.split(PLACEHOLDER_CLIENT_ID).join(settings.clientId.toLowerCase());
  }
  return out;
}
