/**
 * Bearer API key check of the push API: 401 `unauthorized` without a bearer
 * key, 403 `forbidden` with a wrong one (hono's bearerAuth answers 401 to
 * both). Keys are compared in constant time.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { ForbiddenError, UnauthorizedError } from "../shared/errors.ts";
import { matchesSecret } from "../shared/secret_compare.ts";

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
  return async (c, next) => {
    const match = /^Bearer +(\S+) *$/i.exec(
      c.req.header("authorization") ?? "",
    );
    if (!match?.[1]) {
      c.header("WWW-Authenticate", 'Bearer realm="wsgw"');
      throw new UnauthorizedError("a bearer API key is required");
    }
    // Constant time, every key compared: the time tells nothing of the keys.
    if (!matchesSecret(match[1], keys)) {
      throw new ForbiddenError("the API key is not valid");
    }
    await next();
  };
}
