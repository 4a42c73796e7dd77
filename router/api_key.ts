/**
 * Bearer API key check of the push API: 401 `unauthorized` without a bearer
 * key, 403 `forbidden` with a wrong one (hono's bearerAuth answers 401 to
 * both). Keys are compared in constant time.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { ForbiddenError, UnauthorizedError } from "../shared/errors.ts";

/**
 * Middleware that lets a request through only with `Authorization: Bearer <key>`
 * naming one of `keys`.
 *
 * @example
 * ```ts
 * app.use("/v1/*", apiKeyAuth(config.apiKeys));
 * ```
 */
export function apiKeyAuth(keys: readonly string[]): MiddlewareHandler {
  const digests = keys.map(sha256);
  return async (c, next) => {
    const match = /^Bearer +(\S+) *$/i.exec(
      c.req.header("authorization") ?? "",
    );
    if (!match?.[1]) {
      c.header("WWW-Authenticate", 'Bearer realm="wsgw"');
      throw new UnauthorizedError("a bearer API key is required");
    }
    // Hashing gives equal lengths for timingSafeEqual, and every key is
    // compared so the time does not tell which one came close.
    const given = sha256(match[1]);
    let ok = false;
    for (const digest of digests) ok = timingSafeEqual(given, digest) || ok;
    if (!ok) throw new ForbiddenError("the API key is not valid");
    await next();
  };
}

function sha256(value: string): Uint8Array {
  return createHash("sha256").update(value).digest();
}
