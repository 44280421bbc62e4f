import { randomUUID } from "node:crypto";
import type { GraphGroupSeed } from "./types";

/** A directory group as GET /groups lists it; a test may change it (the directory changed). */
export interface StoredGroup {
  id: string;
  displayName: string;
  mail: string | null;
  mailEnabled: boolean;
  securityEnabled: boolean;
  proxyAddresses: string[];
}

/** A group from its seed: mail-enabled when it has a mail address, with `SMTP:<mail>` as its proxy address. */
export function newGroup(seed: GraphGroupSeed): StoredGroup {
  const mail = seed.mail ?? null;
  const mailEnabled = seed.mailEnabled ?? mail !== null;
  return {
    id: seed.id ?? randomUUID(),
    displayName: seed.displayName,
    mail,
    mailEnabled,
    securityEnabled: !mailEnabled,
    proxyAddresses: seed.proxyAddresses ?? (mailEnabled && mail ? [`SMTP:${mail}`] : []),
  };
}
