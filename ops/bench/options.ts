/**
 * Flags shared by every scenario, with short defaults per scenario.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { SYSTEM_KINDS, type SystemKind } from "./systems.ts";
import {
  checkSocketPlan,
  clientProcesses,
  machineLimits,
  timeLimitMs,
} from "./socket_plan.ts";

/** Parsed flags. */
export type BenchOptions = {
  scenario: string;
  systems: SystemKind[];
  sockets: number;
  nodes: number;
  /** Load-client processes. */
  clients: number;
  devices: number;
  placement: "spread" | "user";
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  runs: number;
  /** Connects per second (connections scenario); 0 for as fast as possible. */
  rate: number;
  /** push, fanout-cost: pushes/s offered in an open loop; 0 for a closed loop. */
  pushRate: number;
  idleMs: number;
  heartbeatMs: number;
  /** fanout-cost: node counts. */
  nodeCounts: number[];
  /** latency: offered rates as fractions of the weakest system's capacity. */
  fractions: number[];
  /** registry: mappings. */
  mappings: number;
  /** storm: clients connect through haproxy instead of to each node. */
  lb: boolean;
  /** storm, hold: `nice -n` of the client processes (negative: ahead of the nodes). */
  clientNice: number;
  /** hold: how long the sockets are held with pushes flowing. */
  holdMs: number;
  /**
   * storm, hold: the most a ramp (or the storm's comeback) may take; by
   * default it grows with `sockets` (`socket_plan.ts` `timeLimitMs`).
   */
  timeLimitMs: number;
  json: boolean;
  out: string | undefined;
  say: (text: string) => void;
};

/** Defaults per scenario: short, so a plain `deno task bench <scenario>` takes a minute or two. */
const DEFAULTS: Record<string, Partial<BenchOptions>> = {
  connections: {
    sockets: 10_000,
    nodes: 2,
    clients: 2,
    systems: ["raw", "wsgw", "sio"],
  },
  broadcast: {
    sockets: 10_000,
    nodes: 2,
    clients: 2,
    runs: 3,
    systems: ["raw", "wsgw", "sio"],
  },
  push: {
    sockets: 2_000,
    nodes: 4,
    clients: 1,
    systems: ["raw", "wsgw-embedded", "wsgw", "sio"],
  },
  "fanout-cost": {
    sockets: 2_000,
    clients: 1,
    systems: ["wsgw", "sio"],
    placement: "user",
  },
  latency: {
    sockets: 2_000,
    nodes: 4,
    clients: 1,
    devices: 1,
    concurrency: 64,
    runs: 2,
    systems: ["wsgw", "sio"],
    placement: "user",
  },
  registry: { mappings: 100_000, nodes: 4 },
  storm: { sockets: 2_000, nodes: 4, clients: 2, systems: ["wsgw"] },
  hold: {
    sockets: 2_000,
    nodes: 2,
    clients: 1,
    systems: ["wsgw"],
    pushRate: 20,
  },
  wakeup: { runs: 3, durationMs: 10_000 },
};

/** Scenarios whose sockets must fit the open-file limit and port range. */
const PLANNED = new Set(["connections", "storm", "hold"]);

export const USAGE = `\
Usage: deno task bench <scenario> [flags]

Scenarios: connections, broadcast, push, fanout-cost, latency, registry, storm,
hold, wakeup (CPU of one timer wake-up of an idle Deno and Node process)

Flags (defaults depend on the scenario):
  --systems a,b      which of raw, wsgw, wsgw-embedded, sio, sio-deno:
                     raw = Deno.serve + upgradeWebSocket, push route only;
                     wsgw-embedded = one wsgw process; wsgw = etcd, Redis,
                     K gateways, one router; sio = Socket.IO 4 with
                     @socket.io/redis-adapter on Node (K nodes, pushes through
                     @socket.io/redis-emitter; its packages are installed
                     with npm ci in ops/bench/peers/node when missing);
                     sio-deno = the same Socket.IO peers under Deno's Node layer
  --sockets N        client sockets in total
  --nodes K          socket-holding processes of wsgw / raw / sio / sio-deno
  --node-counts 1,2,4  fanout-cost: K values
  --clients P        load-client processes; default: enough for 3/4 of the
                     open-file limit each (15,000 sockets at 20,000 files).
                     connections, storm, hold check that no client process
                     and no node (after the storm's kill: no survivor) goes
                     past that or the ephemeral port range, and name the
                     flag to raise when one would
  --devices D        devices per user (default 10)
  --placement P      spread (socket i → node i mod K, like an L4 balancer) or
                     user (all devices of a user on one node)
  --concurrency C    HTTP connections of the push load loop (default 600)
  --push-rate R      push, fanout-cost: open loop at R pushes/s in total (each
                     push due at a fixed time, latency counted from then);
                     default 0 = closed loop (each connection pushes again
                     when answered). hold: pushes/s to 10 random users each
                     (default 20)
  --fractions 0.25,0.5,0.8  latency: open-loop rates offered to every
                     system, as fractions of the smallest capacity (delivered
                     push/s of a closed-loop run of each system); defaults:
                     4 nodes, 1 device, 64 connections, 2 interleaved rounds
  --warmup S, --duration S   push load loop, seconds (default 2, 5);
                     wakeup: seconds per measurement (default 10)
  --runs R           runs per system (default 1; 3 for the docs)
  --rate R           connects/s in total (connections; default 0 = as fast as possible)
  --idle S           connections: seconds of idle CPU measurement (default 10)
  --heartbeat S      connections, hold: a client ping every S seconds per
                     socket (default 25; 0 for none; /client.js pings every 10)
  --mappings M       registry: user mappings (default 100000; 1000000 for the target)
  --lb               storm: clients go through one haproxy (leastconn) instead of
                     picking a node themselves
  --client-nice N    storm, hold: run the client processes under nice -n N
                     (write --client-nice=-5 for a negative N; default 0).
                     They stand for devices on other machines:
                     a negative N (root) keeps them from being starved by
                     the nodes they measure on a saturated box
  --hold S           hold: seconds the sockets are held with pushes flowing
                     (default 60)
  --time-limit S     storm, hold: the most the ramp, and the storm's
                     comeback, may take (default 60 s + 10 ms per socket)
  --json             print the result JSON on stdout (else written under ops/bench/results/)
  --out F            write the result JSON to F
`;

/** `--client-nice`: an integer from -20 to 19. */
function nice(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < -20 || n > 19) {
    throw new RangeError(
      `--client-nice must be an integer from -20 to 19, got "${raw}"`,
    );
  }
  return n;
}

/** Parses `args` (scenario first). */
export function parseBenchArgs(
  args: string[],
  say: (text: string) => void,
): BenchOptions {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      systems: { type: "string" },
      sockets: { type: "string" },
      nodes: { type: "string" },
      "node-counts": { type: "string" },
      fractions: { type: "string" },
      clients: { type: "string" },
      devices: { type: "string" },
      placement: { type: "string" },
      concurrency: { type: "string" },
      warmup: { type: "string" },
      duration: { type: "string" },
      runs: { type: "string" },
      rate: { type: "string" },
      "push-rate": { type: "string" },
      idle: { type: "string" },
      heartbeat: { type: "string" },
      mappings: { type: "string" },
      lb: { type: "boolean" },
      hold: { type: "string" },
      "client-nice": { type: "string" },
      "time-limit": { type: "string" },
      json: { type: "boolean" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const scenario = positionals[0] ?? "";
  if (values.help || !(scenario in DEFAULTS)) throw new RangeError(USAGE);
  const d = DEFAULTS[scenario]!;
  const num = (name: string, raw: string | undefined, fallback: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) {
      throw new RangeError(`--${name} must be a number ≥ 0, got "${raw}"`);
    }
    return n;
  };
  const systems =
    (values.systems?.split(",") ?? d.systems ?? []) as SystemKind[];
  for (const s of systems) {
    if (!SYSTEM_KINDS.includes(s)) {
      throw new RangeError(
        `--systems: unknown system "${s}" (one of ${SYSTEM_KINDS.join(", ")})`,
      );
    }
  }
  const placement = values.placement ?? d.placement ?? "spread";
  if (placement !== "spread" && placement !== "user") {
    throw new RangeError(
      `--placement must be spread or user, got "${placement}"`,
    );
  }
  const sockets = num("sockets", values.sockets, d.sockets ?? 2000);
  const nodes = num("nodes", values.nodes, d.nodes ?? 2);
  const limits = machineLimits();
  const clients = num(
    "clients",
    values.clients,
    clientProcesses(sockets, limits, d.clients ?? 1),
  );
  if (clients < 1) throw new RangeError(`--clients must be ≥ 1, got 0`);
  if (PLANNED.has(scenario)) {
    // Only the storm kills a node; its survivors share its sockets.
    const survivors = scenario === "storm" ? Math.max(1, nodes - 1) : nodes;
    if (nodes > 0) {
      checkSocketPlan({ sockets, clients, nodes, survivors }, limits);
    }
  }
  return {
    scenario,
    systems,
    sockets,
    nodes,
    clients,
    devices: num("devices", values.devices, d.devices ?? 10),
    placement,
    concurrency: num("concurrency", values.concurrency, d.concurrency ?? 600),
    warmupMs: num("warmup", values.warmup, 2) * 1000,
    durationMs:
      num("duration", values.duration, (d.durationMs ?? 5000) / 1000) *
      1000,
    runs: num("runs", values.runs, d.runs ?? 1),
    rate: num("rate", values.rate, 0),
    pushRate: num("push-rate", values["push-rate"], d.pushRate ?? 0),
    idleMs: num("idle", values.idle, 10) * 1000,
    heartbeatMs: num("heartbeat", values.heartbeat, 25) * 1000,
    nodeCounts: (values["node-counts"] ?? "1,2,4").split(",").map(Number),
    fractions: fractions(values.fractions ?? "0.25,0.5,0.8"),
    mappings: num("mappings", values.mappings, d.mappings ?? 100_000),
    lb: values.lb ?? false,
    holdMs: num("hold", values.hold, 60) * 1000,
    clientNice: nice(values["client-nice"]),
    timeLimitMs: values["time-limit"] === undefined
      ? timeLimitMs(sockets)
      : num("time-limit", values["time-limit"], 0) * 1000,
    json: values.json ?? false,
    out: values.out,
    say,
  };
}

/** `--fractions`: each in (0, 1], e.g. "0.25,0.5,0.8". */
function fractions(raw: string): number[] {
  return raw.split(",").map((part) => {
    const f = Number(part);
    if (!(f > 0 && f <= 1)) {
      throw new RangeError(
        `--fractions: each must be a number in (0, 1], got "${part}"`,
      );
    }
    return f;
  });
}
