/** The origin every URL in manifest.xml uses during development. */
export declare const DEV_ORIGIN: string;
/** The Entra client id placeholder in manifest.xml. */
export declare const PLACEHOLDER_CLIENT_ID: string;
/** Returns the manifest with production URLs and client id. */
export declare function rewriteManifest(
  xml: string,
  settings: { publicUrl?: string; clientId?: string },
): string;
