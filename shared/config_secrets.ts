/**
 * The secrets part of the configuration: which process holds which secret
 * (a gateway no push-API keys, a router nothing that signs client tokens),
 * the development values of the embedded process, and the rule that a
 * secret outside it is long and not a placeholder.
 *
 * @module
 */
import { type ApiKey, parseApiKey } from "./api_key_scopes.ts";
import type { Mode } from "./config.ts";
import { strongSecret } from "./config_backends.ts";
import {
  type Env,
  envList as list,
  envRequired as required,
  envString as str,
} from "./env_reader.ts";
import { ConfigError } from "./errors.ts";
import { loadTokenConfig, type TokenConfig } from "./token_config.ts";

/** Shortest JWT and internal secret outside dev mode (256 bits as hex is 64). */
export const MIN_SECRET_LENGTH = 32;
/** Shortest push-API key outside dev mode. */
export const MIN_API_KEY_LENGTH = 24;

/** Development secrets `deno task start` falls back to. */
export const DEV_API_KEY = "dev-api-key";
export const DEV_JWT_SECRET = "dev-secret";

/** The variables of client-token checking, which only gateways read. */
const TOKEN_VARIABLES = [
  "WSGW_JWT_SECRET",
  "WSGW_JWT_PREVIOUS_SECRET",
  "WSGW_JWT_PUBLIC_KEY",
  "WSGW_JWT_JWKS_URL",
] as const;

/**
 * The push-API keys and the client-token settings of a `mode` process;
 * warns (into `warnings`) of a development value used, or of a secret set
 * that the process does not use.
 *
 * @throws {ConfigError} naming the variable at fault.
 */
export function loadSecrets(
  env: Env,
  mode: Mode,
  warnings: string[],
): { apiKeys: ApiKey[]; tokens: TokenConfig } {
  const dev = mode === "embedded";
  const secret = (name: string, fallback: string): string => {
    const value = str(env, name);
    if (value !== undefined) return value;
    if (!dev) {
      throw new ConfigError(name, `${name} is required in ${mode} mode`);
    }
    warnings.push(
      `${name} is not set: using the insecure development value "${fallback}"`,
    );
    return fallback;
  };

  // Each role holds only its own secrets: the internet-facing gateways no
  // push-API keys, the routers nothing that can sign a client token.
  const unused = (name: string, why: string) => {
    if (str(env, name) === undefined) return;
    warnings.push(
      `${name} is set but a ${mode} does not use it (${why}): remove it from this process's environment`,
    );
  };
  // etcd's root can change every user and permission: no node needs it.
  unused("WSGW_ETCD_ROOT_PASSWORD", "it is etcd-auth's, to turn auth on");
  let apiKeys: ApiKey[] = [];
  if (mode === "gateway") {
    unused("WSGW_API_KEYS", "the push API runs on routers");
  } else {
    const keyEntries = list(env, "WSGW_API_KEYS");
    if (keyEntries.length === 0) {
      keyEntries.push(secret("WSGW_API_KEYS", DEV_API_KEY));
    }
    apiKeys = keyEntries.map((entry, i) =>
      parseApiKey(entry, i + 1, "WSGW_API_KEYS")
    );
    if (!dev) {
      for (const [i, { key }] of apiKeys.entries()) {
        strongSecret(
          "WSGW_API_KEYS",
          key,
          MIN_API_KEY_LENGTH,
          `entry ${i + 1}`,
        );
      }
    }
  }
  let tokens: TokenConfig;
  if (mode === "router") {
    for (const name of TOKEN_VARIABLES) {
      unused(name, "only gateways check client tokens");
    }
    tokens = loadTokenConfig({}, {}, warnings);
  } else {
    tokens = loadTokenConfig(
      env,
      dev ? { devSecret: DEV_JWT_SECRET } : { requiredIn: mode },
      warnings,
    );
    if (!dev) {
      for (
        const [name, value] of [
          ["WSGW_JWT_SECRET", tokens.jwtSecret],
          ["WSGW_JWT_PREVIOUS_SECRET", tokens.jwtPreviousSecret],
        ] as const
      ) {
        if (value !== undefined) strongSecret(name, value, MIN_SECRET_LENGTH);
      }
    }
  }
  return { apiKeys, tokens };
}

/**
 * The internal API's secret (a random one in the embedded process, where
 * nothing calls it over the network) and the other one accepted while it
 * is rotated.
 *
 * @throws {ConfigError} naming the variable at fault.
 */
export function internalSecrets(
  env: Env,
  mode: Mode,
): { internalSecret: string; internalOtherSecret: string | undefined } {
  const dev = mode === "embedded";
  const internalSecret = str(env, "WSGW_INTERNAL_SECRET") ??
    (dev ? crypto.randomUUID() : required(env, "WSGW_INTERNAL_SECRET", mode));
  const internalOtherSecret = str(env, "WSGW_INTERNAL_OTHER_SECRET");
  if (!dev) {
    strongSecret("WSGW_INTERNAL_SECRET", internalSecret, MIN_SECRET_LENGTH);
    if (internalOtherSecret !== undefined) {
      strongSecret(
        "WSGW_INTERNAL_OTHER_SECRET",
        internalOtherSecret,
        MIN_SECRET_LENGTH,
      );
    }
  }

  return { internalSecret, internalOtherSecret };
}
