/**
 * `storm`: N sockets (one device per user) on K wsgw nodes (each client
 * picks a node, or all go through haproxy with `--lb`), pushes flowing to
 * random users at a steady rate, then `kill -9` of node 1. Prints the curve
 * of reconnected clients over time (ms after the kill when 50%, 90%, 99%
 * and all of the dropped sockets were back), and checks per socket that
 * nothing was lost or delivered twice: each socket's last seq equals the
 * last seq the router answered for its user, with no duplicate or gap on
 * the way (`storm_client.ts`).
 *
 * @module
 */
import { Child } from "../child.ts";
import { costPer, etcdCounters } from "../etcd_stats.ts";
import type { BenchOptions } from "../options.ts";
import { loadAverage } from "../proc_stats.ts";
import { startSystem } from "../systems.ts";

const here = (path: string) => new URL(path, import.meta.url).pathname;

/** Pushes per second, each to `PUSH_USERS` random users. */
const PUSH_RATE = 10;
const PUSH_USERS = 50;

type Stats = {
  open: number;
  dropped: number;
  reconnected: number;
  attempts: number;
  overloaded: number;
  duplicates: number;
  gaps: number;
  errors: Record<string, number>;
  downMs: number[];
};

/** `--runs` storms, each on a fresh cluster; see the module doc. */
export async function stormScenario(
  options: BenchOptions,
): Promise<Record<string, unknown>> {
  const results: unknown[] = [];
  for (let run = 1; run <= options.runs; run++) {
    if (options.runs > 1) options.say(`storm: run ${run} of ${options.runs}`);
    results.push(await oneStorm(options));
  }
  return { results };
}

/** One storm on a fresh cluster. */
async function oneStorm(options: BenchOptions): Promise<unknown> {
  const nodes = Math.max(2, options.nodes);
  const system = await startSystem("wsgw", nodes, { lb: options.lb });
  const clients: Child[] = [];
  let pushing = true;
  let pusher: Promise<void> | undefined;
  try {
    const per = Math.ceil(options.sockets / options.clients);
    for (let id = 0; id * per < options.sockets; id++) {
      clients.push(
        new Child(`storm-${id}`, here("../storm_client.ts"), {
          args: [JSON.stringify({
            id,
            targets: system.targets,
            start: id * per,
            count: Math.min(per, options.sockets - id * per),
            jwtSecret: system.jwtSecret,
            concurrency: 50,
          })],
        }),
      );
    }
    await Promise.all(clients.map((c) => c.next("ready", 300_000)));
    options.say(`storm: ${options.sockets} sockets open on ${nodes} nodes`);
    // user -> last seq the router answered for it.
    const expected = new Map<string, number>();
    let pushes = 0;
    let failedPushes = 0;
    pusher = (async () => {
      while (pushing) {
        const users = Array.from(
          { length: PUSH_USERS },
          () => `u${Math.floor(Math.random() * options.sockets)}`,
        );
        try {
          const response = await fetch(system.pushUrl, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              authorization: system.authorization!,
            },
            body: JSON.stringify({ users: [...new Set(users)], data: "s" }),
          });
          const body = await response.json() as {
            results?: { user: string; seq: number | null }[];
          };
          for (const { user, seq } of body.results ?? []) {
            if (seq) expected.set(user, Math.max(expected.get(user) ?? 0, seq));
          }
          pushes++;
        } catch {
          failedPushes++;
        }
        await new Promise((r) => setTimeout(r, 1000 / PUSH_RATE));
      }
    })();
    await new Promise((r) => setTimeout(r, 2000));
    const stats = async () => (await Promise.all(clients.map(async (c) => {
      const line = c.next("stats", 30_000);
      await c.send("stats");
      return await line as unknown as Stats;
    })));
    const etcdAtKill = system.etcdUrl
      ? await etcdCounters(system.etcdUrl)
      : undefined;
    const killedAt = Date.now();
    await system.killNode!(0);
    const curve: { ms: number; open: number }[] = [];
    let dropped = 0;
    while (Date.now() - killedAt < 120_000) {
      const all = await stats();
      const open = all.reduce((a, s) => a + s.open, 0);
      dropped = Math.max(dropped, all.reduce((a, s) => a + s.dropped, 0));
      curve.push({ ms: Date.now() - killedAt, open });
      if (dropped > 0 && open === options.sockets) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    options.say(`  ${dropped} sockets dropped; back: ${curve.at(-1)?.open}`);
    // What etcd wrote while the clients came back (their registrations,
    // the dead node's lease expiring, the pushes' device reads).
    const stormSeconds = (Date.now() - killedAt) / 1000;
    const etcd = etcdAtKill && system.etcdUrl
      ? costPer(etcdAtKill, await etcdCounters(system.etcdUrl), stormSeconds)
      : undefined;
    // Pushes keep flowing a little, then every socket must catch up.
    await new Promise((r) => setTimeout(r, 2000));
    pushing = false;
    await pusher;
    let behind = -1;
    for (let i = 0; i < 100 && behind !== 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const seqs: Record<string, number> = {};
      for (const c of clients) {
        const line = c.next("seqs", 30_000);
        await c.send("seqs");
        Object.assign(seqs, (await line).seqs);
      }
      behind = 0;
      for (const [user, seq] of expected) {
        if ((seqs[user] ?? 0) < seq) behind++;
      }
    }
    const final = await stats();
    const downMs = final.flatMap((s) => s.downMs).sort((a, b) => a - b);
    const at = (q: number) => downMs[Math.ceil(q * downMs.length) - 1] ?? null;
    const result = {
      nodes,
      sockets: options.sockets,
      dropped,
      reconnected: final.reduce((a, s) => a + s.reconnected, 0),
      backMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), all: at(1) },
      curve,
      pushes,
      failedPushes,
      usersBehind: behind,
      duplicates: final.reduce((a, s) => a + s.duplicates, 0),
      gaps: final.reduce((a, s) => a + s.gaps, 0),
      overloaded: final.reduce((a, s) => a + s.overloaded, 0),
      attempts: final.reduce((a, s) => a + s.attempts, 0),
      errors: final.reduce(
        (a, s) => {
          for (const [k, v] of Object.entries(s.errors)) a[k] = (a[k] ?? 0) + v;
          return a;
        },
        {} as Record<string, number>,
      ),
      /** etcd's counters per second from the kill until all were back. */
      etcdPerSecond: etcd,
      load1: loadAverage(),
    };
    options.say(
      `  back after (ms from the kill): p50 ${result.backMs.p50}, p90 ` +
        `${result.backMs.p90}, p99 ${result.backMs.p99}, all ${result.backMs.all}; ` +
        `${result.usersBehind} users behind, ${result.duplicates} duplicates, ` +
        `${result.gaps} gaps, ${pushes} pushes`,
    );
    if (etcd) options.say(`  etcd per second: ${JSON.stringify(etcd)}`);
    for (const point of curve.filter((_, i) => i % 5 === 0)) {
      options.say(`  +${point.ms} ms: ${point.open} open`);
    }
    return { system: options.lb ? "wsgw+haproxy" : "wsgw", ...result };
  } finally {
    pushing = false;
    await pusher;
    await Promise.all(clients.map(async (c) => {
      await c.send("close").catch(() => {});
      await c.stop(10_000);
    }));
    await system.stop();
  }
}
