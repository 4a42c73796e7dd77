/**
 * Client token verification: JWT, HS256 only, `sub` and `exp` required
 * (PROTOCOL.md "Client connection"), optional `aud`/`iss` checks, and two
 * secrets during a key rollover (docs/SECURITY.md).
 *
 * @module
 */
import {
  errors,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyOptions,
  SignJWT,
} from "jose";
import type { Config } from "./config.ts";
import { UnauthorizedError } from "./errors.ts";
import { userIdProblem } from "./protocol.ts";

/** Who a verified token speaks for. */
export type TokenClaims = { user: string; device: string | null };

/** Longest token we look at; anything longer is refused before parsing. */
const MAX_TOKEN_LENGTH = 8192;

/** What a token must satisfy beyond its signature, `sub` and `exp`. */
export type TokenPolicy = {
  /** Secret new tokens are signed with. */
  secret: string;
  /** Secret of the last rollover, accepted until every client has a new token. */
  previousSecret?: string;
  /** Required `aud`, when set. */
  audience?: string;
  /** Required `iss`, when set. */
  issuer?: string;
  /** Seconds of skew tolerated on `exp` and `nbf`. @default 5 */
  clockSkew?: number;
};

/**
 * Verifies client JWTs: HS256 only, `sub` and `exp` required, `nbf`, `aud`
 * and `iss` checked when present or configured.
 */
export class TokenVerifier {
  readonly #keys: Uint8Array[];
  readonly #options: JWTVerifyOptions;

  constructor(policy: TokenPolicy | string) {
    const { secret, previousSecret, audience, issuer, clockSkew = 5 } =
      typeof policy === "string" ? { secret: policy } : policy;
    const encode = (text: string) => new TextEncoder().encode(text);
    this.#keys = previousSecret === undefined
      ? [encode(secret)]
      : [encode(secret), encode(previousSecret)];
    this.#options = {
      algorithms: ["HS256"],
      requiredClaims: ["exp", "sub"],
      clockTolerance: clockSkew,
      ...(audience === undefined ? {} : { audience }),
      ...(issuer === undefined ? {} : { issuer }),
    };
  }

  /** A verifier for the token settings of `config`. */
  static fromConfig(config: Config): TokenVerifier {
    return new TokenVerifier({
      secret: config.jwtSecret,
      previousSecret: config.jwtPreviousSecret,
      audience: config.jwtAudience,
      issuer: config.jwtIssuer,
      clockSkew: config.jwtClockSkew,
    });
  }

  /**
   * Returns the claims of a valid token.
   *
   * @throws {UnauthorizedError} with a code naming the problem; the message
   * never echoes the token.
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
    const payload = await this.#verifySignedBy(token, 0);
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
    return { user: payload.sub as string, device: device ?? null };
  }

  /** The payload of a token signed by key `index` or a later one. */
  async #verifySignedBy(token: string, index: number): Promise<JWTPayload> {
    try {
      return (await jwtVerify(token, this.#keys[index]!, this.#options))
        .payload;
    } catch (error) {
      // During a rollover a token may be signed by the previous secret.
      if (
        error instanceof errors.JWSSignatureVerificationFailed &&
        index + 1 < this.#keys.length
      ) {
        return this.#verifySignedBy(token, index + 1);
      }
      throw tokenError(error);
    }
  }
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

function tokenError(error: unknown): UnauthorizedError {
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
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new UnauthorizedError(
      "token algorithm is not allowed (HS256 only)",
      undefined,
      "token_invalid",
    );
  }
  return new UnauthorizedError(
    "token is malformed",
    undefined,
    "token_invalid",
  );
}
