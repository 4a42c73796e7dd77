/**
 * A throwaway Redis Cluster for integration tests: masters with one replica
 * each, on free ports of 127.0.0.1, joined by `redis-cli --cluster create`.
 * Hold it with `await using`: every process it started is killed at the end.
 *
 * @module
 */
import { freePort } from "../cluster/ports.ts";
import { spawnRedis } from "./redis_server.ts";

/** Options of {@link startRedisCluster}. */
export type RedisClusterOptions = {
  /** Masters, each with one replica. @default 3 */
  masters?: number;
  /** `cluster-node-timeout` in milliseconds. @default 2000 */
  nodeTimeout?: number;
  /**
   * Replicas never take over by themselves (`cluster-replica-no-failover`):
   * only `CLUSTER FAILOVER` promotes one, so a test decides when.
   * @default false
   */
  manualFailover?: boolean;
  /**
   * PEM files: every node also takes TLS clients on a port of its own, and
   * talks TLS to the other nodes; it announces itself as `localhost`, the
   * name its certificate must hold. The plain port stays, for `cli`.
   */
  tls?: { cert: string; key: string; ca: string };
};

/** One node as `CLUSTER NODES` shows it. */
export type RedisClusterNode = {
  id: string;
  port: number;
  role: "master" | "replica";
  /** The id of its master, for a replica. */
  masterId: string | undefined;
  /** Whether the cluster sees it failing (`fail` or `fail?`). */
  failing: boolean;
  /** The slot ranges it serves, `[first, last]`, for a master. */
  slots: [number, number][];
};

/** A running cluster started by {@link startRedisCluster}. */
export type RedisCluster = AsyncDisposable & {
  /**
   * `redis+cluster://127.0.0.1:<port>,…`, every node a seed; with `tls`,
   * `rediss+cluster://localhost:<tls port>,…`.
   */
  readonly url: string;
  /** The ports of every node, masters first as created. */
  readonly ports: readonly number[];
  /** `redis-cli` against the node on `port`; its output, trimmed. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The nodes as a running node sees them. */
  nodes(): Promise<RedisClusterNode[]>;
  /** SIGKILL the node on `port` (a crash), and waits until it has exited. */
  kill(port: number): Promise<void>;
  /**
   * SIGSTOP (`true`) or SIGCONT (`false`) the node on `port`: a hung node,
   * whose connections stay open and whose commands wait unanswered.
   */
  pause(port: number, paused: boolean): void;
};

/** Starts the nodes, creates the cluster, and waits until every replica is in sync. */
export async function startRedisCluster(
  options: RedisClusterOptions = {},
): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const dir = await Deno.makeTempDir({ prefix: "wsgw-redis-cluster-" });
  const children = new Map<number, Deno.ChildProcess>();
  const tlsPorts: number[] = [];
  const stopAll = async () => {
    for (const child of children.values()) {
      try {
        child.kill("SIGKILL");
      } catch (error) {
        if (!(error instanceof TypeError)) throw error; // exited already
      }
    }
    await Promise.all([...children.values()].map((child) => child.status));
    children.clear();
  };
  try {
    for (let i = 0; i < masters * 2; i++) {
      const [port, child, tlsPort] = await spawnNode(dir, i, options);
      children.set(port, child);
      if (tlsPort !== undefined) tlsPorts.push(tlsPort);
    }
    const ports = [...children.keys()];
    const created = await redisCli([
      "--cluster",
      "create",
      ...ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas",
      "1",
      "--cluster-yes",
    ]);
    if (!created.includes("[OK] All 16384 slots covered")) {
      throw new Error(`redis-cli --cluster create failed:\n${created}`);
    }
    await settle(ports);
  } catch (error) {
    await stopAll();
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  const ports = [...children.keys()];
  const cli = (port: number, ...args: string[]) =>
    redisCli(["-p", String(port), ...args]);
  return {
    url: options.tls
      ? `rediss+cluster://${tlsPorts.map((p) => `localhost:${p}`).join(",")}`
      : `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`,
    ports,
    cli,
    async nodes() {
      const alive = ports.find((port) => children.has(port));
      if (alive === undefined) throw new Error("no node of the cluster runs");
      return parseNodes(await cli(alive, "CLUSTER", "NODES"));
    },
    async kill(port) {
      const child = children.get(port);
      if (child === undefined) return;
      children.delete(port);
      child.kill("SIGKILL");
      await child.status;
    },
    pause(port, paused) {
      const child = children.get(port);
      if (child === undefined) throw new Error(`no node runs on ${port}`);
      child.kill(paused ? "SIGSTOP" : "SIGCONT");
    },
    async [Symbol.asyncDispose]() {
      await stopAll();
      await Deno.remove(dir, { recursive: true }).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    },
  };
}

/** One node on a free port and a free bus port; retried when a port was taken. */
async function spawnNode(
  dir: string,
  index: number,
  options: RedisClusterOptions,
): Promise<[number, Deno.ChildProcess, number | undefined]> {
  for (let attempt = 1;; attempt++) {
    const port = freePort();
    const tlsPort = options.tls ? freePort() : undefined;
    const nodeDir = `${dir}/${index}-${port}`;
    await Deno.mkdir(nodeDir);
    const tls = options.tls
      ? [
        "--tls-port",
        String(tlsPort),
        "--tls-cert-file",
        options.tls.cert,
        "--tls-key-file",
        options.tls.key,
        "--tls-ca-cert-file",
        options.tls.ca,
        "--tls-auth-clients",
        "no",
        "--tls-cluster",
        "yes",
        "--tls-replication",
        "yes",
        "--cluster-announce-hostname",
        "localhost",
        "--cluster-preferred-endpoint-type",
        "hostname",
      ]
      : [];
    try {
      const child = await spawnRedis(port, nodeDir, [
        "--cluster-enabled",
        "yes",
        // The bus port defaults to port + 10000, which may be taken or past
        // 65535 for a port the OS picked.
        "--cluster-port",
        String(freePort()),
        "--cluster-config-file",
        `${nodeDir}/nodes.conf`,
        "--cluster-node-timeout",
        String(options.nodeTimeout ?? 2000),
        // A replica's first sync starts at once instead of 5 s later.
        "--repl-diskless-sync-delay",
        "0",
        "--cluster-replica-no-failover",
        options.manualFailover ? "yes" : "no",
        ...tls,
      ]);
      return [port, child, tlsPort];
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/** Waits until every node says the cluster is ok and every replica is in sync. */
async function settle(ports: number[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (const port of ports) {
    for (;;) {
      const info = await redisCli(["-p", String(port), "CLUSTER", "INFO"]);
      const replication = await redisCli([
        "-p",
        String(port),
        "INFO",
        "replication",
      ]);
      // Gossip spreads who replicates whom: wait until this node knows it
      // of every replica, so nodes() is complete from any node.
      const nodes = parseNodes(
        await redisCli(["-p", String(port), "CLUSTER", "NODES"]),
      );
      const ok = info.includes("cluster_state:ok") &&
        nodes.filter((node) => node.masterId !== undefined).length ===
          ports.length / 2 &&
        info.includes(`cluster_known_nodes:${ports.length}`) &&
        (replication.includes("role:master") ||
          replication.includes("master_link_status:up"));
      if (ok) break;
      if (Date.now() > deadline) {
        throw new Error(
          `the Redis cluster did not settle: node ${port} says\n${info}\n${replication}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function redisCli(args: string[]): Promise<string> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-h", "127.0.0.1", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(
      `redis-cli ${args.join(" ")} failed: ${
        new TextDecoder().decode(out.stderr).trim()
      }\n${text}`,
    );
  }
  return text;
}

/** `CLUSTER NODES` lines: `<id> <ip:port@bus> <flags> <master> …`. */
function parseNodes(text: string): RedisClusterNode[] {
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => {
    const [id, address, flags, master, , , , , ...ranges] = line.split(
      " ",
    ) as [string, string, string, string, ...string[]];
    const port = Number(
      address.slice(address.lastIndexOf(":") + 1).split("@")[0],
    );
    const set = new Set(flags.split(","));
    return {
      id,
      port,
      role: set.has("master") ? "master" : "replica",
      masterId: master === "-" ? undefined : master,
      failing: set.has("fail") || set.has("fail?"),
      slots: ranges.filter((range) => !range.startsWith("[")).map((range) => {
        const [first, last = first] = range.split("-").map(Number) as [
          number,
          number?,
        ];
        return [first, last];
      }),
    };
  });
}
