/**
 * HS256 client tokens verified on the calling thread with `node:crypto`'s
 * HMAC, with the checks jose's `jwtVerify` makes for the options the
 * verifier uses (required claims, clock tolerance, `aud`, `iss`), and jose's
 * own error classes, so the verifier's answers stay the same.
 *
 * Why not jose here: its WebCrypto `verify` runs each HMAC on a pool of
 * threads. On a connect burst every token waited for a thread switch (about
 * 57 µs a token against 16 µs here, measured on one core), the pool grew to
 * ~30 threads, and the malloc arenas of those threads kept ~3 KiB of freed
 * memory per connection in the gateway's RSS (docs/BENCHMARKS.md).
 *
 * @module
 */
import {
  createHmac,
  createSecretKey,
  type KeyObject,
  timingSafeEqual,
} from "node:crypto";
import { Buffer } from "node:buffer";
import { errors, type JWTPayload, type JWTVerifyOptions } from "jose";

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** One HS256 secret, ready to verify tokens with. */
export class Hs256Key {
  /** The secret's bytes, for the tokens this path leaves to jose. */
  readonly secretBytes: Uint8Array;
  readonly #key: KeyObject;

  constructor(secret: string) {
    this.secretBytes = new TextEncoder().encode(secret);
    this.#key = createSecretKey(Buffer.from(this.secretBytes));
  }

  /**
   * The payload of `token` when this secret signed it and its claims pass;
   * `undefined` when the token uses JWS features this path leaves to jose
   * (`crit`, `b64`).
   *
   * @throws jose's `JWSInvalid`, `JWTInvalid`, `JWSSignatureVerificationFailed`,
   * `JWTExpired` or `JWTClaimValidationFailed`, as `jwtVerify` would.
   */
  verify(token: string, options: JWTVerifyOptions): JWTPayload | undefined {
    const parts = token.split(".");
    if (parts.length !== 3) throw new errors.JWSInvalid("Invalid Compact JWS");
    const [header64, payload64, signature64] = parts as [
      string,
      string,
      string,
    ];
    // A length of 4n + 1 is no base64 (jose refuses it too).
    for (const part of parts) {
      if (!BASE64URL.test(part) || part.length % 4 === 1) {
        throw new errors.JWSInvalid("Invalid Compact JWS");
      }
    }
    const header = jsonObject(header64);
    if (header === undefined) {
      throw new errors.JWSInvalid("JWS Protected Header is invalid");
    }
    if (header.crit !== undefined || header.b64 !== undefined) return undefined;
    if (header.alg !== "HS256") {
      throw new errors.JOSEAlgNotAllowed(
        '"alg" (Algorithm) Header Parameter value not allowed',
      );
    }
    const expected = createHmac("sha256", this.#key)
      .update(`${header64}.${payload64}`)
      .digest();
    const given = Buffer.from(signature64, "base64url");
    if (
      given.length !== expected.length || !timingSafeEqual(given, expected)
    ) {
      throw new errors.JWSSignatureVerificationFailed();
    }
    const payload = jsonObject(payload64);
    if (payload === undefined) {
      throw new errors.JWTInvalid(
        "JWT Claims Set must be a top-level JSON object",
      );
    }
    checkClaims(payload, options);
    return payload;
  }
}

/** A base64url segment holding a JSON object, or undefined. */
function jsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(
      utf8.decode(Buffer.from(segment, "base64url")),
    );
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

/** jose's `validateClaimsSet` for required claims, `aud`, `iss` and the time claims. */
function checkClaims(
  claims: Record<string, unknown>,
  options: JWTVerifyOptions,
): void {
  const { requiredClaims = [], audience, issuer } = options;
  const required = [...requiredClaims];
  if (audience !== undefined) required.push("aud");
  if (issuer !== undefined) required.push("iss");
  for (const claim of new Set(required.reverse())) {
    if (!Object.hasOwn(claims, claim)) {
      throw new errors.JWTClaimValidationFailed(
        `missing required "${claim}" claim`,
        claims,
        claim,
        "missing",
      );
    }
  }
  if (
    issuer !== undefined &&
    !(Array.isArray(issuer) ? issuer : [issuer]).includes(claims.iss as string)
  ) {
    unexpected(claims, "iss");
  }
  if (audience !== undefined && !hasAudience(claims.aud, audience)) {
    unexpected(claims, "aud");
  }
  const tolerance = typeof options.clockTolerance === "number"
    ? options.clockTolerance
    : 0;
  const now = Math.floor(Date.now() / 1000);
  numericDate(claims, "iat");
  const nbf = numericDate(claims, "nbf");
  if (nbf !== undefined && nbf > now + tolerance) {
    throw new errors.JWTClaimValidationFailed(
      '"nbf" claim timestamp check failed',
      claims,
      "nbf",
      "check_failed",
    );
  }
  const exp = numericDate(claims, "exp");
  if (exp !== undefined && exp <= now - tolerance) {
    throw new errors.JWTExpired(
      '"exp" claim timestamp check failed',
      claims,
      "exp",
      "check_failed",
    );
  }
}

function hasAudience(aud: unknown, wanted: string | string[]): boolean {
  const accepted = typeof wanted === "string" ? [wanted] : wanted;
  if (typeof aud === "string") return accepted.includes(aud);
  return Array.isArray(aud) && accepted.some((a) => aud.includes(a));
}

function numericDate(
  claims: Record<string, unknown>,
  claim: string,
): number | undefined {
  const value = claims[claim];
  if (value === undefined) return undefined;
  if (typeof value !== "number") {
    throw new errors.JWTClaimValidationFailed(
      `"${claim}" claim must be a number`,
      claims,
      claim,
      "invalid",
    );
  }
  return value;
}

function unexpected(claims: Record<string, unknown>, claim: string): never {
  throw new errors.JWTClaimValidationFailed(
    `unexpected "${claim}" claim value`,
    claims,
    claim,
    "check_failed",
  );
}
