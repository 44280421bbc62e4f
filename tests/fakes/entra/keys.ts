import { randomBytes } from "node:crypto";
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
} from "jose";

/** An RSA signing key of the fake tenant, as Entra publishes it in its JWKS. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
  /** SPKI PEM of the public key: also what an HS256 key-confusion attack would use as the secret. */
  publicPem: string;
}

/** Creates a fresh RS256 key pair with a random kid (Entra's kids look like base64 thumbprints). */
export async function createSigningKey(kid = randomBytes(15).toString("base64url")): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  const publicJwk: JWK = { kty: "RSA", use: "sig", kid, alg: "RS256", n: jwk.n, e: jwk.e };
  return { kid, privateKey, publicKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

/** Holds the published keys (newest first) and signs with the current one; rotation keeps old keys published. */
export class KeyRing {
  private keys: SigningKey[];

  constructor(initial: SigningKey) {
    this.keys = [initial];
  }

  /** The key new tokens are signed with. */
  get current(): SigningKey {
    const key = this.keys[0];
    if (!key) throw new Error("KeyRing has no key");
    return key;
  }

  /** Finds a published key by kid (used to verify assertions this fake signed). */
  find(kid: string | undefined): SigningKey | undefined {
    return this.keys.find((key) => key.kid === kid);
  }

  /** Publishes a new key and signs with it from now on; `dropOld` unpublishes the previous keys. */
  async rotate(dropOld = false): Promise<SigningKey> {
    const next = await createSigningKey();
    this.keys = dropOld ? [next] : [next, ...this.keys];
    return next;
  }

  /** The JWKS document served at /discovery/v2.0/keys. */
  jwks(): JSONWebKeySet {
    return { keys: this.keys.map((key) => ({ ...key.publicJwk })) };
  }

  /** Signs claims as RS256 with the current key (or the given one) and a JWT header like Entra's. */
  async sign(claims: JWTPayload, key: SigningKey = this.current): Promise<string> {
    return signWith(claims, key);
  }
}

/** Signs claims with a given key, header `{ typ: "JWT", alg: "RS256", kid }`. */
export async function signWith(claims: JWTPayload, key: SigningKey): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ typ: "JWT", alg: "RS256", kid: key.kid })
    .sign(key.privateKey);
}

/** Drops keys whose value is undefined so that an override of `undefined` removes a claim. */
export function withoutUndefined(claims: Record<string, unknown>): JWTPayload {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(claims)) if (value !== undefined) out[name] = value;
  return out;
}
