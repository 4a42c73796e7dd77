/**
 * How each process of a local cluster is run and when it counts as ready:
 * etcd and redis-server from PATH with their data in the cluster's temp dir,
 * gateways and routers as `deno run -A <main.ts>`, haproxy from PATH.
 *
 * @module
 */
import { lbServers } from "./lb_socket.ts";
import type { ProcessSpec } from "./managed_process.ts";

/** `http://127.0.0.1:<port>` */
export const local = (port: number): string => `http://127.0.0.1:${port}`;

/** etcd, single member, data in `dataDir`. */
export function etcdSpec(
  dataDir: string,
  port: number,
  peerPort: number,
): ProcessSpec {
  const client = local(port);
  const peer = local(peerPort);
  return {
    command: "etcd",
    args: [
      "--name=wsgw",
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=wsgw=${peer}`,
      "--initial-cluster-state=new",
      "--logger=zap",
      "--log-outputs=stderr",
      "--log-level=warn",
      // One member on loopback: elected in ~100 ms rather than ~1 s.
      "--heartbeat-interval=10",
      "--election-timeout=100",
    ],
    ready: () => etcdHealthy(client),
  };
}

/** redis-server with an append-only file in `dir`, so a stop/start keeps history. */
export function redisSpec(dir: string, port: number): ProcessSpec {
  return {
    command: "redis-server",
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--save",
      "",
      "--loglevel",
      "warning",
      "--logfile",
      "",
    ],
    ready: () => redisAnswers(port),
  };
}

/** haproxy in the foreground with the config at `configPath`. */
export function haproxySpec(
  configPath: string,
  port: number,
  statsSocket: string,
  tlsCa?: string,
): ProcessSpec {
  return {
    command: "haproxy",
    // Master-worker: SIGUSR2 reloads the config (a gateway added or
    // removed); the old worker keeps its connections until they end.
    args: ["-W", "-db", "-f", configPath],
    // Ready once haproxy itself answers on its admin socket (another
    // process that took the port meanwhile would answer the HTTP check
    // below while haproxy exits with "Address already in use") and passes a
    // request to a gateway that is up (over TLS, trusting only the
    // cluster's CA, when it terminates TLS).
    ready: async () =>
      await lbServers(statsSocket).then(() => true, () => false) &&
      (tlsCa === undefined
        ? await httpReady(local(port))
        : await httpsReady(`https://127.0.0.1:${port}`, tlsCa)),
  };
}

/**
 * What a gateway or router may do, as in the `gateway` and `router` tasks of
 * deno.json: the network (clients, etcd, Redis, other nodes), its
 * environment (its config) and reading files (the client module, TLS
 * files). No writing, no subprocesses, no FFI, no system information.
 */
export const SERVER_PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
] as const;

async function httpsReady(url: string, caFile: string): Promise<boolean> {
  using client = Deno.createHttpClient({
    caCerts: [await Deno.readTextFile(caFile)],
  });
  try {
    const response = await fetch(`${url}/readyz`, {
      client,
      signal: AbortSignal.timeout(2000),
    });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false; // not listening yet: poll again
  }
}

/** `deno run <SERVER_PERMISSIONS> [denoFlags] <main>` from the repository root, with `env`. */
export function denoSpec(
  root: string,
  main: string,
  env: Record<string, string>,
  url: string,
  denoFlags: string[] = [],
): ProcessSpec {
  return {
    command: Deno.execPath(),
    args: ["run", ...SERVER_PERMISSIONS, ...denoFlags, main],
    cwd: root,
    // The whole environment: `env` is the launcher's minus per-child variables.
    env,
    clearEnv: true,
    ready: () => httpReady(url),
  };
}

/** True when `<url>/readyz` answers 200. */
export async function httpReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/readyz`, {
      signal: AbortSignal.timeout(2000),
    });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false; // not listening yet, or not answering: poll again
  }
}

async function etcdHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, {
      signal: AbortSignal.timeout(1000),
    });
    const body = await response.json() as { health?: string };
    return response.ok && body.health === "true";
  } catch {
    return false; // not listening yet: poll again
  }
}

async function redisAnswers(port: number): Promise<boolean> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return false; // not listening yet
  }
  // A frozen server accepts and never answers: closing ends the read.
  let closed = false;
  const timer = setTimeout(() => {
    closed = true;
    conn.close();
  }, 1000);
  try {
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buffer = new Uint8Array(64);
    const n = await conn.read(buffer);
    // "-LOADING" while the append-only file is read back: not ready yet.
    return n !== null &&
      new TextDecoder().decode(buffer.subarray(0, n)).startsWith("+PONG");
  } catch {
    return false; // closed by the timer, or reset: poll again
  } finally {
    clearTimeout(timer);
    if (!closed) conn.close();
  }
}

/** True when `binary` is an executable file in a PATH directory. */
export async function onPath(binary: string): Promise<boolean> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    try {
      const info = await Deno.stat(`${dir}/${binary}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return true;
    } catch {
      // not in this directory: try the next
    }
  }
  return false;
}
