/**
 * Client token verification: JWT, HS256 only, `sub` and `exp` required
 * (PROTOCOL.md "Client connection").
 *
 * @module
 */
import { errors, jwtVerify, SignJWT } from "jose";
import { UnauthorizedError } from "./errors.ts";
import { userIdProblem } from "./protocol.ts";

/** Who a verified token speaks for. */
export type TokenClaims = { user: string; device: string | null };

/** Longest token we look at; anything longer is refused before parsing. */
const MAX_TOKEN_LENGTH = 8192;
/** Seconds of clock skew tolerated on `exp`. */
const CLOCK_TOLERANCE = 5;

/** Verifies client JWTs against one HS256 secret. */
export class TokenVerifier {
  readonly #key: Uint8Array;

  constructor(secret: string) {
    this.#key = new TextEncoder().encode(secret);
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
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: ["HS256"],
        requiredClaims: ["exp", "sub"],
        clockTolerance: CLOCK_TOLERANCE,
      }));
    } catch (error) {
      throw tokenError(error);
    }
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
}

/** Signs a client token; for the demo service, the CLI and tests. */
export function signToken(
  secret: string,
  claims: { sub: string; device?: string },
  expiresIn: string | number = "1h",
): Promise<string> {
  const jwt = new SignJWT(
    claims.device === undefined ? {} : { device: claims.device },
  )
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuedAt();
  return (typeof expiresIn === "number"
    ? jwt.setExpirationTime(expiresIn)
    : jwt.setExpirationTime(expiresIn)).sign(new TextEncoder().encode(secret));
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
