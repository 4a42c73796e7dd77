/**
 * The client-token part of the configuration: an HS256 secret, PEM public
 * keys (RS256, ES256, EdDSA) and a JWKS URL, any of which may be set together.
 * Called by `loadConfig` only; errors name the variable at fault.
 *
 * @module
 */
import { createPublicKey } from "node:crypto";
import { type Env, envString } from "./env_reader.ts";
import { ConfigError } from "./errors.ts";

/** Asymmetric algorithms a client token may be signed with. */
export const PUBLIC_KEY_ALGORITHMS = ["RS256", "ES256", "EdDSA"] as const;

/** One of {@link PUBLIC_KEY_ALGORITHMS}. */
export type PublicKeyAlgorithm = typeof PUBLIC_KEY_ALGORITHMS[number];

/** A PEM public key with the algorithm its type implies. */
export type PublicKeyEntry = {
  readonly alg: PublicKeyAlgorithm;
  /** One `-----BEGIN PUBLIC KEY-----` block (SPKI). */
  readonly pem: string;
};

/** The token fields of `Config`. */
export type TokenConfig = {
  readonly jwtSecret: string | undefined;
  readonly jwtPreviousSecret: string | undefined;
  readonly jwtPublicKeys: readonly PublicKeyEntry[];
  readonly jwtJwksUrl: string | undefined;
  /** Milliseconds a fetched key set is used before it is fetched again. */
  readonly jwtJwksMaxAgeMs: number;
  /** Milliseconds after a fetch before an unknown `kid` may fetch again. */
  readonly jwtJwksCooldownMs: number;
};

const PEM_BLOCK =
  /-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\s]+-----END PUBLIC KEY-----/g;

/**
 * Reads the token variables. `devSecret` is used when none of the secret,
 * public key and JWKS URL is set and the mode allows a development value;
 * `required` names the mode when one of them must be set.
 *
 * @throws {ConfigError} naming the variable.
 */
export function loadTokenConfig(
  env: Env,
  fallback: { devSecret?: string; requiredIn?: string },
  warnings: string[],
): TokenConfig {
  const text = (name: string) => envString(env, name);
  const jwtPublicKeys = publicKeys(text("WSGW_JWT_PUBLIC_KEY"));
  const jwtJwksUrl = text("WSGW_JWT_JWKS_URL");
  if (jwtJwksUrl !== undefined) {
    const protocol = URL.canParse(jwtJwksUrl)
      ? new URL(jwtJwksUrl).protocol
      : undefined;
    if (protocol !== "https:" && protocol !== "http:") {
      throw new ConfigError(
        "WSGW_JWT_JWKS_URL",
        `WSGW_JWT_JWKS_URL must be an http(s) URL, got "${
          jwtJwksUrl.slice(0, 200)
        }"`,
      );
    }
  }
  let jwtSecret = text("WSGW_JWT_SECRET");
  const jwtPreviousSecret = text("WSGW_JWT_PREVIOUS_SECRET");
  const asymmetric = jwtPublicKeys.length > 0 || jwtJwksUrl !== undefined;
  if (jwtSecret === undefined && !asymmetric) {
    if (fallback.devSecret !== undefined) {
      warnings.push(
        `WSGW_JWT_SECRET is not set: using the insecure development value "${fallback.devSecret}"`,
      );
      jwtSecret = fallback.devSecret;
    } else if (fallback.requiredIn !== undefined) {
      throw new ConfigError(
        "WSGW_JWT_SECRET",
        `WSGW_JWT_SECRET, WSGW_JWT_PUBLIC_KEY or WSGW_JWT_JWKS_URL is required in ${fallback.requiredIn} mode`,
      );
    }
  }
  if (jwtPreviousSecret !== undefined && jwtSecret === undefined) {
    throw new ConfigError(
      "WSGW_JWT_PREVIOUS_SECRET",
      "WSGW_JWT_PREVIOUS_SECRET is set without WSGW_JWT_SECRET",
    );
  }
  if (fallback.devSecret === undefined) {
    for (
      const [name, value] of [
        ["WSGW_JWT_SECRET", jwtSecret],
        ["WSGW_JWT_PREVIOUS_SECRET", jwtPreviousSecret],
      ] as const
    ) {
      if (value !== undefined && value.length < 32) {
        warnings.push(
          `${name} is shorter than 32 characters: an HS256 secret that short can be guessed offline from one token`,
        );
      }
    }
  }
  return {
    jwtSecret,
    jwtPreviousSecret,
    jwtPublicKeys,
    jwtJwksUrl,
    jwtJwksMaxAgeMs: seconds(env, "WSGW_JWT_JWKS_MAX_AGE", 600, 1) * 1000,
    jwtJwksCooldownMs: seconds(env, "WSGW_JWT_JWKS_COOLDOWN", 30, 0) * 1000,
  };
}

/**
 * `WSGW_JWT_PUBLIC_KEY` holds PEM text (one or more public key blocks, for a
 * key rollover; `\n` may stand for a line break, as env files cannot hold
 * one), or else the path of a file holding it.
 */
function publicKeys(value: string | undefined): PublicKeyEntry[] {
  if (value === undefined) return [];
  const name = "WSGW_JWT_PUBLIC_KEY";
  let pemText = value.replaceAll("\\n", "\n");
  if (!pemText.includes("-----BEGIN")) {
    try {
      pemText = Deno.readTextFileSync(value);
    } catch (error) {
      throw new ConfigError(
        name,
        `${name} is neither PEM text nor a readable file: ${
          value.slice(0, 200)
        }: ${(error as Error).message}`,
      );
    }
  }
  const blocks = pemText.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new ConfigError(
      name,
      `${name} holds no "-----BEGIN PUBLIC KEY-----" block (a private key or certificate is not accepted)`,
    );
  }
  return blocks.map((pem, i) => ({ alg: algorithmOf(pem, i + 1), pem }));
}

function algorithmOf(pem: string, index: number): PublicKeyAlgorithm {
  const name = "WSGW_JWT_PUBLIC_KEY";
  let key;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new ConfigError(
      name,
      `${name}: key ${index} is not a valid PEM public key: ${
        (error as Error).message
      }`,
    );
  }
  const type = key.asymmetricKeyType;
  if (type === "rsa") {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) {
      throw new ConfigError(
        name,
        `${name}: key ${index} is a ${bits}-bit RSA key; at least 2048 bits are required`,
      );
    }
    return "RS256";
  }
  if (type === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === "prime256v1" || curve === "P-256") return "ES256";
    throw new ConfigError(
      name,
      `${name}: key ${index} is an EC key on ${curve}; only P-256 (ES256) is supported`,
    );
  }
  if (type === "ed25519") return "EdDSA";
  throw new ConfigError(
    name,
    `${name}: key ${index} is a ${type} key; RSA (RS256), EC P-256 (ES256) or Ed25519 (EdDSA) are supported`,
  );
}

function seconds(env: Env, name: string, fallback: number, min: number) {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > 86400) {
    throw new ConfigError(
      name,
      `${name} must be a whole number of seconds from ${min} to 86400, got "${
        raw.slice(0, 32)
      }"`,
    );
  }
  return Number(raw);
}
