/**
 * A fleet of load-client processes against one system: spreads the sockets
 * over the processes, shows the ramp on the terminal, merges their reports.
 *
 * @module
 */
import { Child, type Line } from "./child.ts";
import { LatencyHistogram } from "./histogram.ts";
import type { LoadClientConfig } from "./load_client.ts";
import type { System } from "./systems.ts";

/** How to load a system. */
export type FleetOptions = {
  sockets: number;
  devices: number;
  placement: "spread" | "user";
  /** Client processes (each holds ≤ ~15k sockets: 20k open files per process). */
  processes: number;
  /** Total connects per second; 0 for as fast as possible. */
  rate: number;
  /** Handshakes in flight per process. @default 200 */
  concurrency?: number;
  heartbeatMs: number;
  /** Progress lines go here. */
  say: (text: string) => void;
};

/** Merged counters of every client. */
export type FleetStats = {
  open: number;
  failed: number;
  closed: number;
  received: number;
  firstReceipt: number;
  lastReceipt: number;
  latency: LatencyHistogram;
  errors: Record<string, number>;
};

/** Running load clients. */
export class Fleet {
  readonly children: Child[];
  readonly #options: FleetOptions;
  readonly #began = performance.now();

  private constructor(children: Child[], options: FleetOptions) {
    this.children = children;
    this.#options = options;
  }

  /** Starts the clients; {@link ready} waits for their sockets. */
  static start(system: System, options: FleetOptions): Fleet {
    const per = Math.ceil(options.sockets / options.processes);
    const children: Child[] = [];
    for (let i = 0; i < options.processes; i++) {
      const start = i * per;
      const count = Math.min(per, options.sockets - start);
      if (count <= 0) break;
      const config: LoadClientConfig = {
        id: i,
        dialect: system.dialect,
        targets: system.targets,
        start,
        count,
        devices: options.devices,
        placement: options.placement,
        concurrency: options.concurrency ?? 200,
        rate: options.rate > 0 ? options.rate / options.processes : 0,
        jwtSecret: system.jwtSecret,
        heartbeatMs: options.heartbeatMs,
      };
      children.push(
        new Child(
          `client-${i}`,
          new URL("./load_client.ts", import.meta.url).pathname,
          {
            args: [JSON.stringify(config)],
          },
        ),
      );
    }
    return new Fleet(children, options);
  }

  /** Waits until every client has tried all its sockets; progress each second. */
  async ready(): Promise<
    { open: number; failed: number; ms: number; errors: Record<string, number> }
  > {
    const open = new Map<number, number>();
    const failed = new Map<number, number>();
    const offs = this.children.map((child) =>
      child.on((line: Line) => {
        if (line.type === "progress" || line.type === "ready") {
          open.set(line.id as number, line.open as number);
          failed.set(line.id as number, line.failed as number);
        }
      })
    );
    const sum = (m: Map<number, number>) =>
      [...m.values()].reduce((a, b) => a + b, 0);
    let last = 0;
    const timer = setInterval(() => {
      const now = sum(open);
      this.#options.say(
        `  ramp: ${now}/${this.#options.sockets} open, ${sum(failed)} failed, ${
          now - last
        }/s`,
      );
      last = now;
    }, 2000);
    try {
      const lines = await Promise.all(
        this.children.map((c) => c.next("ready")),
      );
      const errors: Record<string, number> = {};
      for (const line of lines) {
        for (
          const [k, v] of Object.entries(line.errors as Record<string, number>)
        ) {
          errors[k] = (errors[k] ?? 0) + v;
        }
      }
      return {
        open: lines.reduce((a, l) => a + (l.open as number), 0),
        failed: lines.reduce((a, l) => a + (l.failed as number), 0),
        ms: Math.round(performance.now() - this.#began),
        errors,
      };
    } finally {
      clearInterval(timer);
      offs.forEach((off) => off());
    }
  }

  /** Zeroes the receipt counters of every client. */
  async reset(): Promise<void> {
    const acks = this.children.map((c) => c.next("reset", 30_000));
    await Promise.all(this.children.map((c) => c.send("reset")));
    await Promise.all(acks);
  }

  /** Merged counters. */
  async stats(): Promise<FleetStats> {
    const replies = this.children.map((c) => c.next("stats", 60_000));
    await Promise.all(this.children.map((c) => c.send("stats")));
    const lines = await Promise.all(replies);
    const latency = new LatencyHistogram();
    const merged: FleetStats = {
      open: 0,
      failed: 0,
      closed: 0,
      received: 0,
      firstReceipt: 0,
      lastReceipt: 0,
      latency,
      errors: {},
    };
    for (const line of lines) {
      merged.open += line.open as number;
      merged.failed += line.failed as number;
      merged.closed += line.closed as number;
      merged.received += line.received as number;
      const first = line.firstReceipt as number;
      if (
        first > 0 && (merged.firstReceipt === 0 || first < merged.firstReceipt)
      ) {
        merged.firstReceipt = first;
      }
      merged.lastReceipt = Math.max(
        merged.lastReceipt,
        line.lastReceipt as number,
      );
      latency.merge(line.latency as [number, number][]);
      for (
        const [k, v] of Object.entries(line.errors as Record<string, number>)
      ) {
        merged.errors[k] = (merged.errors[k] ?? 0) + v;
      }
    }
    return merged;
  }

  /** Pids of the client processes. */
  get pids(): number[] {
    return this.children.map((c) => c.pid);
  }

  /** Closes every socket and ends the clients. */
  async stop(): Promise<void> {
    await Promise.all(this.children.map(async (c) => {
      await c.send("close").catch(() => {});
      await c.stop(10_000);
    }));
  }
}
