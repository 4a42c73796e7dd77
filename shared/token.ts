/**
 * Client token verification: a JWT signed with HS256 (a shared secret),
 * RS256, ES256 or EdDSA (a PEM public key or a JWKS URL), `sub` and `exp`
 * required (PROTOCOL.md "Tokens"), optional `aud`/`iss` checks, and a previous
 * secret or several public keys during a key rollover (docs/SECURITY.md).
 *
 * @module
 */
import {
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyOptions,
  SignJWT,
} from "jose";
import type { Config } from "./config.ts";
import { HttpError, UnauthorizedError } from "./errors.ts";
import { userIdProblem } from "./protocol.ts";
import type { PublicKeyEntry } from "./token_config.ts";
import { KeysUnavailable, TokenKeys, type VerifyKey } from "./token_keys.ts";

/** Who a verified token speaks for, and until when (its `exp`, in ms since the epoch). */
export type TokenClaims = {
  user: string;
  device: string | null;
  expiresAt: number;
};

/** Longest token we look at; anything longer is refused before parsing. */
const MAX_TOKEN_LENGTH = 8192;

/** Which keys verify a token, and what it must satisfy beyond its signature, `sub` and `exp`. */
export type TokenPolicy = {
  /** HS256 secret new tokens are signed with. */
  secret?: string;
  /** HS256 secret of the last rollover, accepted until every client has a new token. */
  previousSecret?: string;
  /** PEM public keys; each key's type decides its algorithm. */
  publicKeys?: readonly PublicKeyEntry[];
  /** URL of a JSON Web Key Set (RS256, ES256, EdDSA keys, chosen by `kid`). */
  jwksUrl?: string;
  /** Milliseconds a fetched key set is used before it is fetched again. @default 600000 */
  jwksMaxAgeMs?: number;
  /** Milliseconds after a fetch before an unknown `kid` fetches again. @default 30000 */
  jwksCooldownMs?: number;
  /** Required `aud`, when set. */
  audience?: string;
  /** Required `iss`, when set. */
  issuer?: string;
  /** Seconds of skew tolerated on `exp` and `nbf`. @default 5 */
  clockSkew?: number;
};

/**
 * Verifies client JWTs: the token's `alg` picks the configured keys it may be
 * checked with (none: refused), `sub` and `exp` are required, `nbf`, `aud`
 * and `iss` checked when present or configured.
 */
export class TokenVerifier {
  readonly #keys: TokenKeys;
  readonly #options: JWTVerifyOptions;

  /** `policy` as a string is a lone HS256 secret. */
  constructor(policy: TokenPolicy | string) {
    const p = typeof policy === "string" ? { secret: policy } : policy;
    const secrets = [p.secret, p.previousSecret].filter((s) => s !== undefined);
    this.#keys = new TokenKeys({
      secrets,
      publicKeys: p.publicKeys,
      jwksUrl: p.jwksUrl,
      jwksMaxAgeMs: p.jwksMaxAgeMs,
      jwksCooldownMs: p.jwksCooldownMs,
    });
    this.#options = {
      requiredClaims: ["exp", "sub"],
      clockTolerance: p.clockSkew ?? 5,
      ...(p.audience === undefined ? {} : { audience: p.audience }),
      ...(p.issuer === undefined ? {} : { issuer: p.issuer }),
    };
  }

  /** A verifier for the token settings of `config`. */
  static fromConfig(config: Config): TokenVerifier {
    return new TokenVerifier({
      secret: config.jwtSecret,
      previousSecret: config.jwtPreviousSecret,
      publicKeys: config.jwtPublicKeys,
      jwksUrl: config.jwtJwksUrl,
      jwksMaxAgeMs: config.jwtJwksMaxAgeMs,
      jwksCooldownMs: config.jwtJwksCooldownMs,
      audience: config.jwtAudience,
      issuer: config.jwtIssuer,
      clockSkew: config.jwtClockSkew,
    });
  }

  /** Algorithms a token may be signed with under this policy. */
  get algorithms(): string[] {
    return this.#keys.algorithms;
  }

  /**
   * Returns the claims of a valid token.
   *
   * @throws {UnauthorizedError} with a code naming the problem; the message
   * never echoes the token.
   * @throws {HttpError} `jwks_unavailable` (503) when the JWKS is needed and
   * cannot be fetched: the token may be good, the client should retry.
   */
  async verify(token: string | null | undefined): Promise<TokenClaims> {
    if (!token) {
      throw new UnauthorizedError(
        "token is missing",
        undefined,
        "token_missing",
      );
    }
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new UnauthorizedError(
        "token is too long",
        undefined,
        "token_invalid",
      );
    }
    const payload = await this.#verifySignature(token);
    const problem = userIdProblem(payload.sub);
    if (problem !== undefined) {
      throw new UnauthorizedError(
        `token sub ${problem}`,
        undefined,
        "token_invalid",
      );
    }
    const device = payload.device;
    if (
      device !== undefined &&
      (typeof device !== "string" || device.length > 128)
    ) {
      throw new UnauthorizedError(
        "token device must be a string of at most 128 characters",
        undefined,
        "token_invalid",
      );
    }
    // jose checked that `exp` is there and a number (a required claim).
    return {
      user: payload.sub as string,
      device: device ?? null,
      expiresAt: (payload.exp as number) * 1000,
    };
  }

  /** The payload, once one of the keys for the token's `alg` verifies it. */
  async #verifySignature(token: string): Promise<JWTPayload> {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new UnauthorizedError(
        "token is malformed",
        undefined,
        "token_invalid",
      );
    }
    const keys = typeof alg === "string" ? await this.#keys.for(alg) : [];
    if (keys.length === 0) {
      throw new UnauthorizedError(
        `token algorithm ${
          JSON.stringify(String(alg).slice(0, 16))
        } is not accepted (accepted: ${this.algorithms.join(", ")})`,
        undefined,
        "token_invalid",
      );
    }
    const options = { ...this.#options, algorithms: [alg as string] };
    let refusal: unknown;
    for (const key of keys) {
      try {
        return await verifyWith(token, key, options);
      } catch (error) {
        // During a rollover a token may be signed by a later key in the list.
        if (!isWrongKey(error)) throw tokenError(error);
        refusal ??= error;
      }
    }
    throw tokenError(refusal);
  }
}

async function verifyWith(
  token: string,
  key: VerifyKey,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  try {
    // jose's overloads split on the key's type.
    return typeof key === "function"
      ? (await jwtVerify(token, key, options)).payload
      : (await jwtVerify(token, key, options)).payload;
  } catch (error) {
    // A JWKS with several keys and a token without `kid`: try each.
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    let refusal: unknown = error;
    for await (const candidate of error) {
      try {
        return (await jwtVerify(token, candidate, options)).payload;
      } catch (inner) {
        if (!isWrongKey(inner)) throw inner;
        refusal = inner;
      }
    }
    throw refusal;
  }
}

function isWrongKey(error: unknown): boolean {
  return error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys;
}

/** Claims {@link signToken} can set. */
export type SignClaims = {
  sub: string;
  device?: string;
  aud?: string;
  iss?: string;
  /** Not before, seconds since the epoch. */
  nbf?: number;
};

/** Signs a client token; for the demo service, the CLI and tests. */
export function signToken(
  secret: string,
  claims: SignClaims,
  expiresIn: string | number = "1h",
): Promise<string> {
  const { sub, aud, iss, nbf, device } = claims;
  const jwt = new SignJWT(device === undefined ? {} : { device })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn);
  if (aud !== undefined) jwt.setAudience(aud);
  if (iss !== undefined) jwt.setIssuer(iss);
  if (nbf !== undefined) jwt.setNotBefore(nbf);
  return jwt.sign(new TextEncoder().encode(secret));
}

function tokenError(error: unknown): HttpError {
  if (error instanceof KeysUnavailable) {
    return new HttpError(
      "jwks_unavailable",
      503,
      "the gateway cannot fetch its token keys (JWKS) right now; try again shortly",
      { cause: error.cause },
    );
  }
  if (error instanceof errors.JWTExpired) {
    return new UnauthorizedError(
      "token has expired",
      undefined,
      "token_expired",
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new UnauthorizedError(
      "token signature is invalid",
      undefined,
      "token_signature",
    );
  }
  if (
    error instanceof errors.JWTClaimValidationFailed && error.claim === "nbf"
  ) {
    return new UnauthorizedError(
      "token is not valid yet (nbf)",
      undefined,
      "token_invalid",
    );
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new UnauthorizedError(
      `token claim "${error.claim}" is missing or invalid`,
      undefined,
      "token_invalid",
    );
  }
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return new UnauthorizedError(
      "no key of the JWKS matches the token (kid, alg)",
      undefined,
      "token_signature",
    );
  }
  return new UnauthorizedError(
    "token is malformed",
    undefined,
    "token_invalid",
  );
}
