/**
 * Bearer API key check of the push API: 401 `unauthorized` without a bearer
 * key, 403 `forbidden` with a wrong one (hono's bearerAuth answers 401 to
 * both), 403 `insufficient_scope` with a key whose scope does not cover the
 * route. Keys are compared in constant time. The keys and their scopes
 * themselves (`WSGW_API_KEYS`) are `shared/api_key_scopes.ts`.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import {
  allows,
  type ApiKey,
  indexOfKey,
  type Scope,
} from "../shared/api_key_scopes.ts";
import { ForbiddenError, UnauthorizedError } from "../shared/errors.ts";

/** Context variables the key check sets for {@link requireScope}. */
export type ApiKeyEnv = {
  Variables: { apiScope: Scope; apiKeyIndex: number };
};

/**
 * Middleware that lets a request through only with `Authorization: Bearer <key>`
 * naming one of `keys`, and records the key's scope.
 *
 * @example
 * ```ts
 * app.use("/v1/*", apiKeyAuth(config.apiKeys));
 * ```
 */
export function apiKeyAuth(
  keys: readonly ApiKey[],
): MiddlewareHandler<ApiKeyEnv> {
  return async (c, next) => {
    const match = /^Bearer +(\S+) *$/i.exec(
      c.req.header("authorization") ?? "",
    );
    if (!match?.[1]) {
      c.header("WWW-Authenticate", 'Bearer realm="wsgw"');
      throw new UnauthorizedError("a bearer API key is required");
    }
    const index = indexOfKey(match[1], keys);
    const scope = keys[index]?.scope;
    if (scope === undefined) {
      throw new ForbiddenError("the API key is not valid");
    }
    c.set("apiScope", scope);
    // Which key, by position, for its budgets; never the key itself.
    c.set("apiKeyIndex", index);
    await next();
  };
}

/**
 * Middleware of a route that needs `scope`; {@link apiKeyAuth} must run first.
 *
 * @example
 * ```ts
 * app.post("/broadcast", requireScope("broadcast"), handler);
 * ```
 */
export function requireScope(scope: Scope): MiddlewareHandler {
  return async (c: Context, next) => {
    const held = c.get("apiScope") as Scope | undefined;
    if (held === undefined || !allows(held, scope)) {
      throw new ForbiddenError(
        `this API key has the ${held ?? "no"} scope; this route needs ${scope}`,
        undefined,
        "insufficient_scope",
      );
    }
    await next();
  };
}
