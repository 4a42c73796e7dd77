/**
 * `storm`: N sockets (one device per user) on K wsgw nodes (each client
 * picks a node, or all go through haproxy with `--lb`), pushes flowing to
 * random users at a steady rate, then `kill -9` of node 1. Prints the curve
 * of reconnected clients over time (sockets open every 100 ms after the
 * kill, and ms after the kill when 50%, 90%, 99% and all of the dropped
 * sockets were back), and checks per socket that nothing was lost or
 * delivered twice: each socket's last seq equals the last seq the router
 * answered for its user, with no duplicate or gap on the way
 * (`storm_client.ts`).
 *
 * @module
 */
import { freshRuns } from "../fresh_runs.ts";
import { costPer, etcdCounters } from "../etcd_stats.ts";
import type { BenchOptions } from "../options.ts";
import {
  loadAverage,
  machineBusySeconds,
  type TcpCounters,
  tcpCounters,
  totalCpu,
} from "../proc_stats.ts";
import { ResumeFleet } from "../resume_fleet.ts";
import { SteadyPusher } from "../steady_pusher.ts";
import { startSystem } from "../systems.ts";

/** Pushes per second, each to `PUSH_USERS` random users. */
const PUSH_RATE = 10;
const PUSH_USERS = 50;

/** `--runs` storms, each on a fresh cluster; see the module doc. */
export async function stormScenario(
  options: BenchOptions,
): Promise<Record<string, unknown>> {
  return await freshRuns("storm", options, oneStorm);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One storm on a fresh cluster. */
async function oneStorm(options: BenchOptions): Promise<unknown> {
  const nodes = Math.max(2, options.nodes);
  const system = await startSystem("wsgw", nodes, { lb: options.lb });
  let fleet: ResumeFleet | undefined;
  let pusher: SteadyPusher | undefined;
  try {
    // The storm's figures since its first run: WebSocket pings only.
    fleet = ResumeFleet.forRun(system, options, 0);
    const ramp = await fleet.readyForRun(options);
    if (!ramp.complete) {
      throw new Error(
        `storm: only ${fleet.opened} of ${options.sockets} sockets open after ` +
          `--time-limit ${options.timeLimitMs / 1000} s; errors: ${
            JSON.stringify(fleet.rampErrors)
          }`,
      );
    }
    options.say(
      `storm: ${options.sockets} sockets open on ${nodes} nodes in ${ramp.ms} ms`,
    );
    pusher = new SteadyPusher({
      pushUrl: system.pushUrl,
      authorization: system.authorization!,
      rate: PUSH_RATE,
      usersPerPush: PUSH_USERS,
      users: options.sockets,
    });
    pusher.start();
    await sleep(2000);
    const etcdAtKill = system.etcdUrl
      ? await etcdCounters(system.etcdUrl)
      : undefined;
    const busyAtKill = machineBusySeconds();
    const tcpAtKill = tcpCounters();
    // Who spends the CPU while the clients come back.
    const roles = {
      gateways: system.gatewayPids.slice(1),
      router: system.apiPids,
      backends: system.backendPids,
      clients: fleet.pids,
      coordinator: [Deno.pid],
    };
    const cpuAtKill = Object.fromEntries(
      Object.entries(roles).map(([role, pids]) => [role, totalCpu(pids)]),
    );
    const killedAt = Date.now();
    await system.killNode!(0);
    const curve: {
      ms: number;
      open: number;
      dropped: number;
      reconnected: number;
      /** Longest event-loop hold-up of any client since the previous point. */
      clientLagMs: number;
    }[] = [];
    let dropSpans: [number, number][] = [];
    let dropped = 0;
    let allBackMs: number | null = null;
    let lastDropAt = 0;
    let firstDropAt = 0;
    while (Date.now() - killedAt < options.timeLimitMs) {
      const now = await fleet.stats();
      dropped = Math.max(dropped, now.dropped);
      lastDropAt = now.lastDropAt;
      firstDropAt = now.firstDropAt;
      dropSpans = now.dropSpans;
      curve.push({
        ms: Date.now() - killedAt,
        open: now.open,
        dropped: now.dropped,
        reconnected: now.reconnected,
        clientLagMs: Math.max(...now.lagMs),
      });
      if (dropped > 0 && now.open === options.sockets) {
        allBackMs = curve.at(-1)!.ms;
        break;
      }
      await sleep(100);
    }
    const stormSeconds = (Date.now() - killedAt) / 1000;
    const machineCpuPercent = Math.round(
      (machineBusySeconds() - busyAtKill) / stormSeconds * 100,
    );
    const tcpNow = tcpCounters();
    const tcp = Object.fromEntries(
      (Object.keys(tcpNow) as (keyof TcpCounters)[]).map((
        k,
      ) => [k, tcpNow[k] - tcpAtKill[k]]),
    );
    const cpuPercent = Object.fromEntries(
      Object.entries(roles).map((
        [role, pids],
      ) => [
        role,
        Math.round((totalCpu(pids) - cpuAtKill[role]!) / stormSeconds * 100),
      ]),
    );
    options.say(`  ${dropped} sockets dropped; back: ${curve.at(-1)?.open}`);
    // What etcd wrote while the clients came back (their registrations,
    // the dead node's lease expiring, the pushes' device reads).
    const etcd = etcdAtKill && system.etcdUrl
      ? costPer(etcdAtKill, await etcdCounters(system.etcdUrl), stormSeconds)
      : undefined;
    // Pushes keep flowing a little, then every socket must catch up.
    await sleep(2000);
    await pusher.stop();
    const behind = await fleet.caughtUp(pusher.expected, 20_000);
    const final = await fleet.stats();
    const downMs = await fleet.downMs();
    const at = (q: number) => downMs[Math.ceil(q * downMs.length) - 1] ?? null;
    const result = {
      nodes,
      sockets: options.sockets,
      clients: fleet.children.length,
      rampMs: ramp.ms,
      dropped,
      reconnected: final.reconnected,
      /** ms from the kill until every socket was open again (curve; null: not within the time limit). */
      allBackMs,
      /** ms from the kill until the clients noticed the first and the last drop. */
      noticedMs: {
        first: firstDropAt ? firstDropAt - killedAt : null,
        last: lastDropAt ? lastDropAt - killedAt : null,
        /** The same per client process. */
        perClient: dropSpans.map(([first, last]) =>
          first ? [first - killedAt, last - killedAt] : null
        ),
      },
      /** ms from each socket's drop (as its client noticed it) until it was back. */
      backMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), all: at(1) },
      curve,
      pushes: pusher.counts.accepted,
      failedPushes: pusher.counts.failed + pusher.counts.skipped,
      usersBehind: behind,
      duplicates: final.duplicates,
      gaps: final.gaps,
      overloaded: final.overloaded,
      attempts: final.attempts,
      errors: final.errors,
      /** Busy CPU of the whole machine from the kill until all were back, % of one core. */
      machineCpuPercent,
      /** The same per role (surviving gateways, router, etcd + Redis, clients, this process). */
      cpuPercent,
      /** The machine's TCP counters from the kill until all were back (other work included). */
      tcp,
      /** etcd's counters per second from the kill until all were back. */
      etcdPerSecond: etcd,
      load1: loadAverage(),
    };
    options.say(
      `  all back ${allBackMs} ms after the kill; drops noticed ` +
        `${result.noticedMs.first}–${result.noticedMs.last} ms after it`,
    );
    options.say(
      `  back after (ms from each drop): p50 ${result.backMs.p50}, p90 ` +
        `${result.backMs.p90}, p99 ${result.backMs.p99}, all ${result.backMs.all}; ` +
        `${result.usersBehind} users behind, ${result.duplicates} duplicates, ` +
        `${result.gaps} gaps, ${result.pushes} pushes`,
    );
    if (etcd) options.say(`  etcd per second: ${JSON.stringify(etcd)}`);
    options.say(
      `  TCP from the kill until all were back: ${JSON.stringify(tcp)}`,
    );
    options.say(
      `  CPU % of one core from the kill until all were back: machine ${machineCpuPercent}, ${
        JSON.stringify(cpuPercent)
      }`,
    );
    for (const point of curve.filter((_, i) => i % 5 === 0)) {
      options.say(
        `  +${point.ms} ms: ${point.open} open, ${point.dropped} drops noticed, ${point.reconnected} back, client loop lag ≤ ${point.clientLagMs} ms`,
      );
    }
    return { system: options.lb ? "wsgw+haproxy" : "wsgw", ...result };
  } finally {
    await pusher?.stop();
    await fleet?.stop();
    await system.stop();
  }
}
