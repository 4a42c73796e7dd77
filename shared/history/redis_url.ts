/**
 * The forms `WSGW_REDIS` takes: one server (`redis://`, `rediss://` for TLS)
 * or a Redis Cluster given by seed nodes (`redis+cluster://h1:p1,h2:p2`,
 * `rediss+cluster://` for TLS). Read by `shared/config.ts` to check the value
 * and by the Redis history to connect.
 *
 * @module
 */

/** A host and port of a seed node. */
export type RedisSeed = { host: string; port: number };

/** A parsed `redis+cluster://` or `rediss+cluster://` URL. */
export type RedisClusterUrl = {
  tls: boolean;
  /** Decoded; "" when none. */
  username: string;
  /** Decoded; "" when none. */
  password: string;
  seeds: RedisSeed[];
};

const CLUSTER = /^(rediss?)\+cluster:\/\/(?:([^@/?#]*)@)?([^/?#]*)([/?#].*)?$/i;

/** Whether `url` names a Redis Cluster (`redis+cluster://`, `rediss+cluster://`). */
export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:/i.test(url);
}

/** Whether `url` asks for TLS (`rediss://` or `rediss+cluster://`). */
export function isTlsUrl(url: string): boolean {
  return /^rediss[:+]/i.test(url);
}

/**
 * Parses a cluster URL: `redis[s]+cluster://[[user]:password@]host:port[,host:port…]`
 * (the port defaults to 6379; a cluster has database 0 only, so no path).
 *
 * @throws {RangeError} saying what is wrong, without the login.
 */
export function parseClusterUrl(url: string): RedisClusterUrl {
  const match = CLUSTER.exec(url);
  if (match === null) {
    throw new RangeError(
      "a cluster URL reads redis+cluster://host:port,host:port (rediss+cluster:// for TLS)",
    );
  }
  const [, scheme, login, hosts, rest] = match as unknown as [
    string,
    string,
    string | undefined,
    string,
    string | undefined,
  ];
  if (rest !== undefined && rest !== "" && rest !== "/" && rest !== "/0") {
    throw new RangeError(
      `a Redis Cluster has only database 0 and takes no options, got "${rest}" after the nodes`,
    );
  }
  const seeds = hosts.split(",").map((part) => part.trim()).map(
    (part): RedisSeed => {
      // Each node goes through the URL parser of a plain redis:// URL, so
      // IPv6 literals ([::1]:6379) and bad ports are handled alike.
      const parsed = URL.canParse(`redis://${part}`) && part !== ""
        ? new URL(`redis://${part}`)
        : undefined;
      if (
        parsed === undefined || parsed.hostname === "" ||
        parsed.pathname !== "" || parsed.username !== ""
      ) {
        throw new RangeError(
          `"${part}" is not a host:port (nodes are separated by commas)`,
        );
      }
      const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
      return { host, port: parsed.port === "" ? 6379 : Number(parsed.port) };
    },
  );
  const [username = "", password = ""] = login === undefined
    ? []
    : splitLogin(login);
  return { tls: scheme.toLowerCase() === "rediss", username, password, seeds };
}

/** The cluster URL again, with `login` in place of whatever it held. */
export function formatClusterUrl(
  parsed: RedisClusterUrl,
  login: { username: string; password: string },
): string {
  const auth = login.username === "" && login.password === ""
    ? ""
    : `${encodeURIComponent(login.username)}:${
      encodeURIComponent(login.password)
    }@`;
  const nodes = parsed.seeds.map(({ host, port }) =>
    `${host.includes(":") ? `[${host}]` : host}:${port}`
  );
  return `${parsed.tls ? "rediss" : "redis"}+cluster://${auth}${
    nodes.join(",")
  }`;
}

function splitLogin(login: string): [string, string] {
  const colon = login.indexOf(":");
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new RangeError("the login before the @ is not percent-encoded");
    }
  };
  return colon === -1
    ? [decode(login), ""]
    : [decode(login.slice(0, colon)), decode(login.slice(colon + 1))];
}
