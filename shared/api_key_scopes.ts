/**
 * Push-API keys and their scopes. `WSGW_API_KEYS` lists keys separated by
 * commas; each may end in `:push`, `:broadcast` or `:admin`. Scopes are
 * levels, each allowing what the one before does and more:
 *
 * | scope | routes |
 * | --- | --- |
 * | `push` | `POST /v1/push`, presence, messages |
 * | `broadcast` | the above and `POST /v1/broadcast` |
 * | `admin` | everything, with `POST /v1/users/:user/disconnect` and `GET /v1/nodes` |
 *
 * A key without a suffix is `admin`, as before scopes existed. The router's
 * bearer check that uses them is `router/api_key.ts`.
 *
 * @module
 */
import { ConfigError } from "./errors.ts";
import { indexOfSecret } from "./secret_compare.ts";

/** What a key may do; see the module table. */
export type Scope = "push" | "broadcast" | "admin";

/** A push-API key and its scope. */
export type ApiKey = { readonly key: string; readonly scope: Scope };

const LEVEL: Readonly<Record<Scope, number>> = {
  push: 1,
  broadcast: 2,
  admin: 3,
};

/** True when a key of scope `held` may call a route that needs `needed`. */
export function allows(held: Scope, needed: Scope): boolean {
  return LEVEL[held] >= LEVEL[needed];
}

/**
 * Parses entry `position` (1-based) of `WSGW_API_KEYS`.
 *
 * @throws {ConfigError} for an empty key or an unknown scope; the message
 * names the entry by position, never by its key.
 */
export function parseApiKey(
  entry: string,
  position: number,
  variable: string,
): ApiKey {
  const colon = entry.lastIndexOf(":");
  if (colon === -1) return { key: entry, scope: "admin" };
  const key = entry.slice(0, colon);
  const scope = entry.slice(colon + 1);
  if (!Object.hasOwn(LEVEL, scope)) {
    throw new ConfigError(
      variable,
      `${variable}: entry ${position} has scope "${
        scope.slice(0, 16)
      }"; the scopes are push, broadcast and admin`,
    );
  }
  if (key === "") {
    throw new ConfigError(
      variable,
      `${variable}: entry ${position} has an empty key before ":"`,
    );
  }
  return { key, scope: scope as Scope };
}

/**
 * The scope of the key `given`, or undefined when it is none of `keys`. Every
 * key is compared in full and in constant time, so the time taken tells
 * nothing of which key matched or how much of one did.
 */
export function scopeOf(
  given: string,
  keys: readonly ApiKey[],
): Scope | undefined {
  return keys[indexOfKey(given, keys)]?.scope;
}

/** The position of `given` in `keys` (-1 when absent), in constant time as {@link scopeOf}. */
export function indexOfKey(given: string, keys: readonly ApiKey[]): number {
  return indexOfSecret(given, keys.map(({ key }) => key));
}
