/**
 * The options of a local cluster and the handle callers get for each of its
 * processes: start, stop, signal, restart, on the same ports every time.
 *
 * @module
 */
import type { LogLevel } from "../../shared/log.ts";
import type { ManagedProcess, ProcessSpec } from "./managed_process.ts";
import { addressInUse } from "./ports.ts";

/** Options of `startCluster()`. */
export type ClusterOptions = {
  /** Gateway nodes `gw-1`…. @default 3 */
  nodes?: number;
  /** Router replicas `router-1`…. @default 1 */
  routers?: number;
  /** haproxy in front of the gateways. @default false */
  lb?: boolean;
  /**
   * With `lb`: haproxy terminates TLS (`wss://`) with a throwaway certificate
   * made at start (openssl); clients trust `Cluster.tlsCa`. @default false
   */
  tls?: boolean;
  /** Fixed ports from here (layout in `ports.ts`); free ports otherwise. */
  portBase?: number;
  /** `WSGW_LEASE_TTL` of every process, in seconds. @default 10 */
  leaseTtl?: number;
  /** `WSGW_LOG_LEVEL` of gateways and routers. @default "info" */
  logLevel?: LogLevel;
  /** Push-API key. @default random */
  apiKey?: string;
  /** HS256 secret of client tokens. @default random */
  jwtSecret?: string;
  /** Secret of the gateways' internal API. @default random */
  internalSecret?: string;
  /** @default "/wsgw" */
  etcdPrefix?: string;
  /** Extra `deno run` flags of a gateway or router by name (e.g. `--cpu-prof`). @default none */
  denoFlags?: (name: string) => string[];
  /** More environment for gateways and routers, e.g. `{ WSGW_MAX_DEVICES: "3" }`. */
  env?: Record<string, string>;
  /** Where etcd and Redis keep their data; kept on stop when given. @default a new temp dir */
  dir?: string;
  /** The repository root holding `gateway/main.ts`. @default this checkout */
  root?: string;
  /** Milliseconds one process may take to become ready. @default 60000 */
  readyTimeoutMs?: number;
  /** Milliseconds between SIGTERM and SIGKILL on stop. @default 15000 */
  stopTimeoutMs?: number;
  /** Every output line of every process. @default dropped (the last lines are kept for errors) */
  onLine?: (name: string, line: string) => void;
  /** A process ended; `expected` is false when the cluster did not signal it. */
  onExit?: (
    name: string,
    status: Deno.CommandStatus,
    expected: boolean,
  ) => void;
  /** Progress messages of the launcher itself. */
  log?: (message: string) => void;
};

/** The cluster could not start; the message says what to check. */
export class ClusterStartError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ClusterStartError";
  }
}

/** One process of the cluster. */
export type ProcessHandle = {
  /** `gw-1`, `router-1`, `etcd`, `redis`, `lb`. */
  readonly name: string;
  /** Its URL (`http://…`, or `redis://…`). */
  readonly url: string;
  /** The pid while it runs. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Starts it (again) on the same ports; resolves once ready. */
  start(): Promise<void>;
  /** SIGTERM (a gateway drains), SIGKILL after the stop timeout. */
  stop(): Promise<void>;
  /**
   * Sends `signal`; for SIGKILL/SIGTERM/SIGINT/SIGQUIT resolves once the
   * process has exited, for others (SIGSTOP, SIGCONT) at once.
   */
  kill(signal?: Deno.Signal): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /**
   * Environment added on top of the cluster's at every later start (a
   * rolling restart with a new secret); a value of `""` removes a variable.
   */
  env: Readonly<Record<string, string>>;
  /** Its last output lines. */
  tail(): string;
};

/** A gateway node of the cluster. */
export type GatewayHandle = ProcessHandle & {
  readonly nodeId: string;
  /** Where routers reach its internal API. */
  readonly internalUrl: string;
  /** `ws://127.0.0.1:<port>/ws` */
  readonly wsUrl: string;
};

/** Shared by the handles of one cluster. */
export type Lifecycle = { stopping: boolean };

/** Attempts at a first start when a free port was taken meanwhile. */
const PORT_ATTEMPTS = 3;

/** A {@link ProcessHandle} over a {@link ManagedProcess}. */
export class Handle implements ProcessHandle {
  readonly #process: ManagedProcess;
  readonly #options: ClusterOptions;
  readonly #url: () => string;
  readonly #reallocate: (() => void) | undefined;
  /** Builds the spec from the current ports. */
  build: () => ProcessSpec = () => this.#process.spec;
  /** Set once the whole cluster is up: ports are known to others from then on. */
  started = false;
  env: Readonly<Record<string, string>> = {};
  readonly #lifecycle: Lifecycle;

  constructor(
    process: ManagedProcess,
    options: ClusterOptions,
    lifecycle: Lifecycle,
    url: () => string,
    reallocate: (() => void) | undefined,
  ) {
    this.#process = process;
    this.#options = options;
    this.#lifecycle = lifecycle;
    this.#url = url;
    this.#reallocate = reallocate;
  }

  get name(): string {
    return this.#process.name;
  }

  get url(): string {
    return this.#url();
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  get running(): boolean {
    return this.#process.running;
  }

  async start(): Promise<void> {
    for (let attempt = 1;; attempt++) {
      // Once the cluster stops, nothing may start behind its back.
      if (this.#lifecycle.stopping) {
        throw new ClusterStartError(`${this.name}: the cluster is stopping`);
      }
      this.#process.spec = withEnv(this.build(), this.env);
      try {
        await this.#process.start(this.#options.readyTimeoutMs ?? 60_000);
        return;
      } catch (error) {
        const retry = !this.started && this.#reallocate !== undefined &&
          attempt < PORT_ATTEMPTS && addressInUse(this.#process.tail());
        if (!retry) throw error;
        this.#options.log?.(`${this.name}: port taken, trying another`);
        this.#reallocate!();
      }
    }
  }

  stop(): Promise<void> {
    return this.#process.stop(this.#options.stopTimeoutMs ?? 15_000);
  }

  kill(signal: Deno.Signal = "SIGKILL"): Promise<void> {
    return this.#process.kill(signal, this.#options.stopTimeoutMs ?? 15_000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  tail(): string {
    return this.#process.tail();
  }
}

/** `spec` with `env` on top; `""` removes a variable. */
function withEnv(
  spec: ProcessSpec,
  env: Readonly<Record<string, string>>,
): ProcessSpec {
  if (Object.keys(env).length === 0) return spec;
  const merged: Record<string, string> = { ...spec.env, ...env };
  for (const [name, value] of Object.entries(env)) {
    if (value === "") delete merged[name];
  }
  return { ...spec, env: merged };
}
