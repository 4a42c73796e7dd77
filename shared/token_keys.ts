/**
 * The keys a client token may be verified with, chosen by the token's `alg`:
 * HS256 secrets, PEM public keys and a remote JWKS. Each key is imported once
 * (jose would import a raw secret again on every verify).
 *
 * @module
 */
import {
  createRemoteJWKSet,
  errors,
  importSPKI,
  type JWTHeaderParameters,
  type JWTVerifyGetKey,
} from "jose";
import { PUBLIC_KEY_ALGORITHMS, type PublicKeyEntry } from "./token_config.ts";

/** A key, or a function that finds one for the token (a JWKS). */
export type VerifyKey = CryptoKey | JWTVerifyGetKey;

/** Where keys come from. */
export type KeySources = {
  /** HS256 secrets, the current one first. */
  secrets?: readonly string[];
  publicKeys?: readonly PublicKeyEntry[];
  jwksUrl?: string;
  /** @default 600000 */
  jwksMaxAgeMs?: number;
  /** @default 30000 */
  jwksCooldownMs?: number;
};

/**
 * Thrown through jose when the JWKS cannot be fetched or read; the verifier
 * turns it into a 503, since the token may well be good.
 */
export class KeysUnavailable extends Error {
  constructor(options: ErrorOptions) {
    super("the token keys (JWKS) cannot be fetched", options);
    this.name = "KeysUnavailable";
  }
}

/** The keys of every accepted algorithm, imported on first use. */
export class TokenKeys {
  readonly #byAlg = new Map<string, Array<() => Promise<VerifyKey>>>();

  constructor(sources: KeySources) {
    for (const secret of sources.secrets ?? []) {
      this.#add("HS256", once(() => importHmac(secret)));
    }
    for (const { alg, pem } of sources.publicKeys ?? []) {
      // The cast: jose types its key with node:crypto's CryptoKey once
      // @types/node is in the program (npm etcd3, ioredis), which differs
      // from the web one in its `usages`; at run time it is the same key.
      this.#add(alg, once(() => importSPKI(pem, alg) as Promise<VerifyKey>));
    }
    if (sources.jwksUrl !== undefined) {
      const jwks = guardJwks(
        createRemoteJWKSet(new URL(sources.jwksUrl), {
          cacheMaxAge: sources.jwksMaxAgeMs ?? 600_000,
          cooldownDuration: sources.jwksCooldownMs ?? 30_000,
        }),
      );
      const key = () => Promise.resolve(jwks);
      for (const alg of PUBLIC_KEY_ALGORITHMS) this.#add(alg, key);
    }
  }

  /** Algorithms some key is configured for. */
  get algorithms(): string[] {
    return [...this.#byAlg.keys()];
  }

  /** The keys to try, in order, for a token signed with `alg`. */
  async for(alg: string): Promise<VerifyKey[]> {
    return await Promise.all((this.#byAlg.get(alg) ?? []).map((key) => key()));
  }

  #add(alg: string, key: () => Promise<VerifyKey>): void {
    const keys = this.#byAlg.get(alg) ?? [];
    keys.push(key);
    this.#byAlg.set(alg, keys);
  }
}

/** A JWKS lookup whose fetch failures are {@link KeysUnavailable}. */
function guardJwks(jwks: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header: JWTHeaderParameters, token) => {
    try {
      return await jwks(header, token);
    } catch (error) {
      // An unknown kid (after a refetch) is the token's fault; anything else
      // (network, timeout, HTTP status, bad JSON) is the key server's.
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys
      ) {
        throw error;
      }
      throw new KeysUnavailable({ cause: error });
    }
  };
}

function importHmac(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
}

/** Runs `make` once; a failed import is retried on the next call. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= make().catch((error) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
