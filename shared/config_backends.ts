/**
 * The backend part of the configuration (etcd and Redis endpoints, logins,
 * TLS files) and the rule for secrets, for `shared/config.ts`: logins are
 * taken out of URLs before anything uses or shows them.
 *
 * @module
 */
import { ConfigError } from "./errors.ts";
import type { Mode } from "./config.ts";
import {
  formatClusterUrl,
  isClusterUrl,
  isTlsUrl,
  parseClusterUrl,
} from "./history/redis_url.ts";

/** Paths of PEM files for a TLS client; each may be absent. */
export type TlsFiles = {
  readonly ca: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
};

/** Where etcd and Redis are and how to log in to them. */
export type BackendConfig = {
  /** Endpoints without credentials; empty in embedded mode. */
  etcd: string[];
  etcdUsername: string | undefined;
  etcdPassword: string | undefined;
  etcdTls: TlsFiles;
  /** With its login, if any; undefined in embedded mode. */
  redis: string | undefined;
  redisTls: TlsFiles;
};

/** Reads one variable, trimmed; `undefined` when unset or blank. */
type Get = (name: string) => string | undefined;

/**
 * The backend settings of a `mode` process.
 *
 * @throws {ConfigError} naming the variable at fault, never a password.
 */
export function loadBackends(get: Get, mode: Mode): BackendConfig {
  const dev = mode === "embedded";
  const etcdGiven = (get("WSGW_ETCD") ?? "").split(",").map((s) => s.trim())
    .filter((s) => s !== "");
  if (!dev && etcdGiven.length === 0) {
    throw new ConfigError("WSGW_ETCD", `WSGW_ETCD is required in ${mode} mode`);
  }
  const { endpoints: etcd, username, password } = etcdEndpoints(etcdGiven);
  const etcdUsername = get("WSGW_ETCD_USERNAME") ?? username;
  const etcdPassword = get("WSGW_ETCD_PASSWORD") ?? password;
  if ((etcdUsername === undefined) !== (etcdPassword === undefined)) {
    throw new ConfigError(
      etcdUsername === undefined ? "WSGW_ETCD_USERNAME" : "WSGW_ETCD_PASSWORD",
      "WSGW_ETCD_USERNAME and WSGW_ETCD_PASSWORD go together",
    );
  }
  if (!dev && etcdPassword !== undefined) {
    backendPassword(
      get("WSGW_ETCD_PASSWORD") === undefined
        ? "WSGW_ETCD"
        : "WSGW_ETCD_PASSWORD",
      etcdPassword,
    );
  }
  const etcdTls = tlsFiles(get, "WSGW_ETCD");
  if (etcdTls.ca ?? etcdTls.cert) {
    const plain = etcd.find((e) => !e.startsWith("https:"));
    if (plain !== undefined) {
      throw new ConfigError(
        "WSGW_ETCD",
        `WSGW_ETCD_CA/CERT are set, so every WSGW_ETCD endpoint must be https://, got "${plain}"`,
      );
    }
  }
  let redis = get("WSGW_REDIS");
  if (!dev && redis === undefined) {
    throw new ConfigError(
      "WSGW_REDIS",
      `WSGW_REDIS is required in ${mode} mode`,
    );
  }
  if (redis !== undefined) {
    const cluster = isClusterUrl(redis);
    if (!cluster && /^[^,]*\/\/[^/]*,/.test(redis)) {
      throw new ConfigError(
        "WSGW_REDIS",
        `WSGW_REDIS lists several nodes: a Redis Cluster is written redis+cluster://host:port,host:port (rediss+cluster:// for TLS), got "${
          masked(redis)
        }"`,
      );
    }
    if (!cluster) checkUrl("WSGW_REDIS", redis);
    redis = (cluster ? withClusterLogin : withRedisLogin)(
      redis,
      get("WSGW_REDIS_USERNAME"),
      get("WSGW_REDIS_PASSWORD"),
    );
    const password = cluster
      ? parseClusterUrl(redis).password
      : decodeURIComponent(new URL(redis).password);
    if (!dev && password !== "") {
      backendPassword(
        get("WSGW_REDIS_PASSWORD") === undefined
          ? "WSGW_REDIS"
          : "WSGW_REDIS_PASSWORD",
        password,
      );
    }
  }
  const redisTls = tlsFiles(get, "WSGW_REDIS");
  if ((redisTls.ca ?? redisTls.cert) && !(redis && isTlsUrl(redis))) {
    throw new ConfigError(
      "WSGW_REDIS",
      "WSGW_REDIS_CA/CERT are set, so WSGW_REDIS must be a rediss:// (or rediss+cluster://) URL",
    );
  }
  return { etcd, etcdUsername, etcdPassword, etcdTls, redis, redisTls };
}

/**
 * Refuses an etcd or Redis password copied from an example file. Whoever
 * runs the backend chose it, so no length is imposed here.
 */
function backendPassword(name: string, value: string): void {
  strongSecret(name, value, 1);
}

/** Throws a {@link ConfigError} when `value` is no URL, showing it without its login. */
export function checkUrl(name: string, value: string): void {
  if (!URL.canParse(value)) {
    // The error is logged: a URL may carry a password before the "@".
    throw new ConfigError(
      name,
      `${name} must be a URL, got "${masked(value)}"`,
    );
  }
}

/**
 * Endpoints without their `user:password@`, which goes to the etcd auth
 * settings instead (grpc would take it for part of the host name), and
 * never into a message.
 */
function etcdEndpoints(given: string[]): {
  endpoints: string[];
  username: string | undefined;
  password: string | undefined;
} {
  let username: string | undefined;
  let password: string | undefined;
  const endpoints = given.map((endpoint) => {
    checkUrl("WSGW_ETCD", endpoint);
    const parsed = new URL(endpoint);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new ConfigError(
        "WSGW_ETCD",
        `WSGW_ETCD endpoints must be http:// or https://, got "${
          masked(endpoint)
        }"`,
      );
    }
    if (parsed.username !== "" || parsed.password !== "") {
      const user = decodeURIComponent(parsed.username);
      const pass = decodeURIComponent(parsed.password);
      if (
        (username !== undefined && username !== user) ||
        (password !== undefined && password !== pass)
      ) {
        throw new ConfigError(
          "WSGW_ETCD",
          "WSGW_ETCD endpoints name different credentials: use one user for all (or WSGW_ETCD_USERNAME and WSGW_ETCD_PASSWORD)",
        );
      }
      username = user;
      password = pass;
    }
    if (parsed.protocol === "https:" && /^[\d.]+$|^\[/.test(parsed.hostname)) {
      throw new ConfigError(
        "WSGW_ETCD",
        `WSGW_ETCD: an https:// endpoint needs a host name that its certificate names (Deno's TLS refuses an IP address as server name), got "${parsed.host}"`,
      );
    }
    return `${parsed.protocol}//${parsed.host}`;
  });
  return { endpoints, username, password };
}

/**
 * `url` with the login of `WSGW_REDIS_USERNAME` / `WSGW_REDIS_PASSWORD`
 * (kept apart so the URL can sit in a file anyone may read).
 */

function withRedisLogin(
  url: string,
  username: string | undefined,
  password: string | undefined,
): string {
  if (username === undefined && password === undefined) return url;
  if (password === undefined) {
    throw new ConfigError(
      "WSGW_REDIS_PASSWORD",
      "WSGW_REDIS_USERNAME needs WSGW_REDIS_PASSWORD",
    );
  }
  const parsed = new URL(url);
  if (parsed.password !== "") {
    throw new ConfigError(
      "WSGW_REDIS_PASSWORD",
      "WSGW_REDIS_PASSWORD is set and WSGW_REDIS holds a password too: keep one",
    );
  }
  parsed.username = encodeURIComponent(username ?? "");
  parsed.password = encodeURIComponent(password);
  return parsed.href;
}

/**
 * {@link withRedisLogin} for a `redis+cluster://` URL, which `URL` cannot
 * parse (its nodes are a list); checks the URL on the way.
 */
function withClusterLogin(
  url: string,
  username: string | undefined,
  password: string | undefined,
): string {
  let parsed;
  try {
    parsed = parseClusterUrl(url);
  } catch (error) {
    throw new ConfigError(
      "WSGW_REDIS",
      `WSGW_REDIS: ${(error as Error).message}, got "${masked(url)}"`,
    );
  }
  if (username === undefined && password === undefined) {
    return formatClusterUrl(parsed, parsed);
  }
  if (password === undefined) {
    throw new ConfigError(
      "WSGW_REDIS_PASSWORD",
      "WSGW_REDIS_USERNAME needs WSGW_REDIS_PASSWORD",
    );
  }
  if (parsed.password !== "") {
    throw new ConfigError(
      "WSGW_REDIS_PASSWORD",
      "WSGW_REDIS_PASSWORD is set and WSGW_REDIS holds a password too: keep one",
    );
  }
  return formatClusterUrl(parsed, { username: username ?? "", password });
}

function tlsFiles(get: Get, prefix: string): TlsFiles {
  const files = {
    ca: get(`${prefix}_CA`),
    cert: get(`${prefix}_CERT`),
    key: get(`${prefix}_KEY`),
  };
  if ((files.cert === undefined) !== (files.key === undefined)) {
    const missing = files.cert === undefined ? "CERT" : "KEY";
    throw new ConfigError(
      `${prefix}_${missing}`,
      `${prefix}_CERT and ${prefix}_KEY go together (a client certificate and its key)`,
    );
  }
  return files;
}

/** A URL with whatever sits before the "@" replaced: it may be a password. */
export function masked(value: string): string {
  return value.replace(/^([^/]*\/\/)[^@/]*@/, "$1***@");
}

/**
 * Refuses a short or placeholder secret, saying how to make a real one and
 * never showing the value.
 */
export function strongSecret(
  name: string,
  value: string,
  min: number,
  which = "",
): void {
  const what = which === "" ? name : `${name} (${which})`;
  if (PLACEHOLDER.test(value)) {
    throw new ConfigError(
      name,
      `${what} still holds a placeholder ("change-me", "dev-…"): generate real secrets with \`deno task ctl secrets --out .env\` (or \`openssl rand -hex 32\` for each value)`,
    );
  }
  if (value.length < min) {
    throw new ConfigError(
      name,
      `${what} is ${value.length} characters, at least ${min} are needed (a short secret can be guessed): make one with \`openssl rand -hex 32\``,
    );
  }
}

/**
 * The example env files' placeholders (`change-me…` as a word of its own, in
 * any case, so "exchange-merchant" passes), the dev defaults, and words
 * nobody should use as a secret.
 */
const PLACEHOLDER =
  /(^|[^a-z0-9])change-?me([^a-z0-9]|$)|placeholder|^dev-|^(secret|password|test)$/i;
