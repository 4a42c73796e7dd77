/**
 * How many sockets each process of a bench may hold on this machine, and how
 * long a run at a given size may take. A socket costs one open file in the
 * client process and one in the node holding it, so the open-file limit
 * bounds both; each node listens on its own port, so the client side of the
 * sockets to one node draws on one ephemeral port range (per source and
 * destination address pair), and that bounds a node too.
 *
 * @module
 */

/** What this machine allows a process. */
export type MachineLimits = {
  /** Soft `RLIMIT_NOFILE` (inherited by every process the bench starts). */
  openFiles: number;
  /** Size of `net.ipv4.ip_local_port_range`. */
  ephemeralPorts: number;
};

/**
 * Open files a process keeps for other things than sockets (stdio, etcd and
 * Redis connections, the router's keep-alive connections, reconnects in
 * flight while the old socket is still closing). A quarter of the limit is
 * ample: a 20,000-file process holds 15,000 bench sockets.
 */
const HEADROOM = 0.25;

/** Sockets one process may hold under `limits`. */
export function socketsPerProcess(limits: MachineLimits): number {
  return Math.floor(limits.openFiles * (1 - HEADROOM));
}

/** Client processes needed for `sockets` (at least `floor`). */
export function clientProcesses(
  sockets: number,
  limits: MachineLimits,
  floor = 1,
): number {
  return Math.max(floor, Math.ceil(sockets / socketsPerProcess(limits)));
}

/** One bench layout to check against {@link MachineLimits}. */
export type SocketPlan = {
  sockets: number;
  /** Client processes (`--clients`). */
  clients: number;
  /** Socket-holding nodes (`--nodes`). */
  nodes: number;
  /**
   * Nodes left after the storm's kill (`nodes - 1`), whose sockets then
   * spread over the rest; `nodes` when nothing is killed.
   */
  survivors: number;
};

/** A plan this machine cannot run; the message names the flag to change. */
export class SocketPlanError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "SocketPlanError";
  }
}

/**
 * Checks that every client process and every node stays under the open-file
 * limit and the ephemeral port range.
 *
 * @throws {SocketPlanError} naming the flag that would fix it.
 */
export function checkSocketPlan(plan: SocketPlan, limits: MachineLimits): void {
  const perProcess = socketsPerProcess(limits);
  const perClient = Math.ceil(plan.sockets / plan.clients);
  if (perClient > perProcess) {
    throw new SocketPlanError(
      `--clients ${plan.clients}: ${perClient} sockets per client process, ` +
        `over the ${perProcess} that ${limits.openFiles} open files allow; ` +
        `use --clients ${clientProcesses(plan.sockets, limits)} or more`,
    );
  }
  const perNode = Math.ceil(plan.sockets / plan.survivors);
  const perNodeCap = Math.min(perProcess, limits.ephemeralPorts);
  if (perNode > perNodeCap) {
    const need = Math.ceil(plan.sockets / perNodeCap) +
      (plan.nodes - plan.survivors);
    const why = perProcess <= limits.ephemeralPorts
      ? `${limits.openFiles} open files per process`
      : `${limits.ephemeralPorts} ephemeral ports per node`;
    throw new SocketPlanError(
      `--nodes ${plan.nodes}: up to ${perNode} sockets on one node, over the ` +
        `${perNodeCap} that ${why} allow; use --nodes ${need} or more`,
    );
  }
}

/**
 * Time a run of `sockets` may take to open them all (or to bring them back
 * after a kill): a minute plus the sockets at a floor of 100 connects/s, ten
 * times below what the slowest run on this box managed. A run slower than
 * that is broken, not slow.
 */
export function timeLimitMs(sockets: number): number {
  return 60_000 + sockets * 10;
}

/** Reads {@link MachineLimits} from `/proc` (Linux); generous defaults elsewhere. */
export function machineLimits(): MachineLimits {
  return {
    openFiles: readOpenFiles() ?? 1_048_576,
    ephemeralPorts: readPortRange() ?? 28_232,
  };
}

function readOpenFiles(): number | undefined {
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
    return soft === undefined || soft === "unlimited"
      ? undefined
      : Number(soft);
  } catch {
    return undefined;
  }
}

function readPortRange(): number | undefined {
  try {
    const [low, high] = Deno.readTextFileSync(
      "/proc/sys/net/ipv4/ip_local_port_range",
    ).trim().split(/\s+/).map(Number);
    return high! - low! + 1;
  } catch {
    return undefined;
  }
}
