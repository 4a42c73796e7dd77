/**
 * The client processes of `storm` and `hold` (`storm_client.ts`: one device
 * per user, sockets that resume after a drop and check their seqs), spread
 * over the processes, with the ramp recorded and their counters merged.
 *
 * @module
 */
import { Child, type Line } from "./child.ts";
import type { BenchOptions } from "./options.ts";
import { profileFlags, type System } from "./systems.ts";
import type { StormClientConfig } from "./storm_client.ts";

/** Counters of every client, summed. */
export type ResumeStats = {
  open: number;
  dropped: number;
  reconnected: number;
  attempts: number;
  overloaded: number;
  duplicates: number;
  gaps: number;
  received: number;
  /** `Date.now()` when the first and the last drop were noticed by a client; 0 before any. */
  firstDropAt: number;
  lastDropAt: number;
  /** Per client process: `[firstDropAt, lastDropAt]`. */
  dropSpans: [number, number][];
  /** Per client process: the longest its event loop was held up since the last poll, ms. */
  lagMs: number[];
  errors: Record<string, number>;
};

/**
 * One point of the ramp: sockets open `ms` after the clients started, and
 * how many had dropped after opening by then.
 */
export type RampPoint = { ms: number; open: number; dropped: number };

const COUNTERS = [
  "open",
  "dropped",
  "reconnected",
  "attempts",
  "overloaded",
  "duplicates",
  "gaps",
  "received",
] as const;

/** Running resume clients. */
export class ResumeFleet {
  readonly children: Child[];
  readonly #began = performance.now();
  readonly #open = new Map<number, number>();
  readonly #dropped = new Map<number, number>();
  readonly #errors = new Map<number, Record<string, number>>();
  readonly #offs: (() => void)[];

  private constructor(children: Child[]) {
    this.children = children;
    this.#offs = children.map((child) =>
      child.on((line: Line) => {
        if (line.type === "progress" || line.type === "ready") {
          this.#open.set(line.id as number, line.open as number);
          if (line.type === "progress") {
            this.#dropped.set(line.id as number, line.dropped as number);
            this.#errors.set(
              line.id as number,
              line.errors as Record<string, number>,
            );
          }
        }
      })
    );
  }

  /**
   * The fleet of one `storm` or `hold` run against `system`: the run's
   * sockets, client processes and their `nice`, a client ping every
   * `heartbeatMs` (0 for none).
   */
  static forRun(
    system: Pick<System, "targets" | "jwtSecret">,
    options: Pick<BenchOptions, "sockets" | "clients" | "clientNice">,
    heartbeatMs: number,
  ): ResumeFleet {
    return ResumeFleet.start({
      sockets: options.sockets,
      processes: options.clients,
      targets: system.targets,
      jwtSecret: system.jwtSecret!,
      nice: options.clientNice,
      heartbeatMs,
    });
  }

  /** Starts `processes` clients for users `u0` … `u<sockets - 1>`. */
  static start(options: {
    sockets: number;
    processes: number;
    targets: { hostname: string; port: number }[];
    jwtSecret: string;
    /** Handshakes in flight per process. @default 50 */
    concurrency?: number;
    /** A client ping per socket every this many ms; 0 for none. */
    heartbeatMs: number;
    /** Scheduling priority of the client processes (`nice -n`). @default 0 */
    nice?: number;
  }): ResumeFleet {
    const per = Math.ceil(options.sockets / options.processes);
    const children: Child[] = [];
    for (let id = 0; id * per < options.sockets; id++) {
      const config: StormClientConfig = {
        id,
        targets: options.targets,
        start: id * per,
        count: Math.min(per, options.sockets - id * per),
        jwtSecret: options.jwtSecret,
        concurrency: options.concurrency ?? 50,
        heartbeatMs: options.heartbeatMs,
      };
      children.push(
        new Child(
          `resume-${id}`,
          new URL("./storm_client.ts", import.meta.url).pathname,
          {
            args: [JSON.stringify(config)],
            denoFlags: profileFlags(`client-${id}`),
            nice: options.nice,
          },
        ),
      );
    }
    return new ResumeFleet(children);
  }

  /** Sockets open now, from the clients' last progress lines. */
  get opened(): number {
    return [...this.#open.values()].reduce((a, b) => a + b, 0);
  }

  /** Errors of every client so far (from their progress lines), summed. */
  get rampErrors(): Record<string, number> {
    const sum: Record<string, number> = {};
    for (const errors of this.#errors.values()) {
      for (const [k, v] of Object.entries(errors)) sum[k] = (sum[k] ?? 0) + v;
    }
    return sum;
  }

  /** Pids of the client processes. */
  get pids(): number[] {
    return this.children.map((c) => c.pid);
  }

  /**
   * Waits until every client has opened its sockets, sampling the total
   * every `sampleMs`; `onSample` sees each point.
   *
   * `complete` is false when some client was still opening after
   * `timeoutMs` (its sockets keep trying; what was open is reported).
   *
   * @throws {Error} when a client exits.
   */
  /** {@link ready} within the run's `--time-limit`, saying each ramp point. */
  readyForRun(
    options: Pick<BenchOptions, "sockets" | "timeLimitMs" | "say">,
  ): Promise<{ ms: number; ramp: RampPoint[]; complete: boolean }> {
    return this.ready(
      options.timeLimitMs,
      (p) =>
        options.say(
          `  ramp: ${p.open}/${options.sockets} open at ${p.ms} ms, ${p.dropped} dropped after opening`,
        ),
    );
  }

  async ready(
    timeoutMs: number,
    onSample: (point: RampPoint) => void,
    sampleMs = 2000,
  ): Promise<{ ms: number; ramp: RampPoint[]; complete: boolean }> {
    const ramp: RampPoint[] = [];
    const sample = () => {
      const point = {
        ms: Math.round(performance.now() - this.#began),
        open: this.opened,
        dropped: [...this.#dropped.values()].reduce((a, b) => a + b, 0),
      };
      ramp.push(point);
      onSample(point);
    };
    const timer = setInterval(sample, sampleMs);
    let complete = true;
    try {
      await Promise.all(this.children.map((c) => c.next("ready", timeoutMs)));
    } catch (error) {
      // Past the time limit: the caller gets what was reached.
      if (!/within \d+ ms/.test(String(error))) throw error;
      complete = false;
    } finally {
      clearInterval(timer);
    }
    sample();
    return { ms: ramp.at(-1)!.ms, ramp, complete };
  }

  /** Summed counters (no per-reconnect times: cheap enough to poll). */
  async stats(): Promise<ResumeStats> {
    const lines = await this.#ask("stats");
    const sum: ResumeStats = {
      open: 0,
      dropped: 0,
      reconnected: 0,
      attempts: 0,
      overloaded: 0,
      duplicates: 0,
      gaps: 0,
      received: 0,
      firstDropAt: 0,
      lastDropAt: 0,
      dropSpans: [],
      lagMs: [],
      errors: {},
    };
    for (const line of lines) {
      for (const key of COUNTERS) sum[key] += line[key] as number;
      const first = line.firstDropAt as number;
      if (first && (!sum.firstDropAt || first < sum.firstDropAt)) {
        sum.firstDropAt = first;
      }
      sum.lastDropAt = Math.max(sum.lastDropAt, line.lastDropAt as number);
      sum.dropSpans.push([first, line.lastDropAt as number]);
      sum.lagMs.push(line.maxLagMs as number);
      for (
        const [k, v] of Object.entries(line.errors as Record<string, number>)
      ) {
        sum.errors[k] = (sum.errors[k] ?? 0) + v;
      }
    }
    return sum;
  }

  /** ms from drop to back of every reconnect, sorted. */
  async downMs(): Promise<number[]> {
    const lines = await this.#ask("downs");
    return lines.flatMap((l) => l.downMs as number[]).sort((a, b) => a - b);
  }

  /** Users whose socket's last seq is below the highest seq `expected` for them. */
  async behind(expected: ReadonlyMap<string, number>): Promise<number> {
    const seqs: Record<string, number> = {};
    for (const line of await this.#ask("seqs")) {
      Object.assign(seqs, line.seqs as Record<string, number>);
    }
    let behind = 0;
    for (const [user, seq] of expected) {
      if ((seqs[user] ?? 0) < seq) behind++;
    }
    return behind;
  }

  /**
   * Polls {@link behind} every 200 ms until it is 0 or `timeoutMs` passed;
   * resolves with the last count.
   */
  async caughtUp(
    expected: ReadonlyMap<string, number>,
    timeoutMs: number,
  ): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let behind = await this.behind(expected);
    while (behind > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      behind = await this.behind(expected);
    }
    return behind;
  }

  /** Closes every socket and ends the clients. */
  async stop(): Promise<void> {
    this.#offs.forEach((off) => off());
    await Promise.all(this.children.map(async (c) => {
      await c.send("close").catch(() => {});
      await c.stop(10_000);
    }));
  }

  async #ask(command: string): Promise<Line[]> {
    return await Promise.all(this.children.map(async (c) => {
      const line = c.next(command, 60_000);
      await c.send(command);
      return await line;
    }));
  }
}
