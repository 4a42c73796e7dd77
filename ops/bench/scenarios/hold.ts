/**
 * `hold`: ramp to N sockets (one device per user) on K wsgw nodes, hold them
 * for `--hold` seconds while pushes flow at `--push-rate` to random users,
 * then check that every push the router accepted arrived once: the (user,
 * seq) pairs it answered against the messages the sockets received, each
 * socket's last seq against its user's last accepted seq, and no duplicate
 * or gap per socket (`storm_client.ts`). Reports the connect rate over the
 * ramp, RSS per socket of the gateways, deliveries during the hold and the
 * machine's CPU in each phase.
 *
 * @module
 */
import { freshRuns } from "../fresh_runs.ts";
import type { BenchOptions } from "../options.ts";
import {
  loadAverage,
  machineBusySeconds,
  totalCpu,
  totalRss,
} from "../proc_stats.ts";
import { ResumeFleet } from "../resume_fleet.ts";
import { SteadyPusher } from "../steady_pusher.ts";
import { startSystem, type System } from "../systems.ts";
import { rampRates } from "../ramp_rates.ts";

/** Random users per push. */
const PUSH_USERS = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `--runs` holds, each on a fresh cluster. */
export async function holdScenario(
  options: BenchOptions,
): Promise<Record<string, unknown>> {
  return await freshRuns("hold", options, oneHold);
}

/** Machine and process CPU over one phase, in % of one core. */
class Phase {
  readonly #t0 = performance.now();
  readonly #busy0 = machineBusySeconds();
  readonly #gw0: number;
  constructor(readonly gateways: number[]) {
    this.#gw0 = totalCpu(gateways);
  }
  end(): {
    seconds: number;
    machineCpuPercent: number;
    gatewayCpuPercent: number;
  } {
    const seconds = (performance.now() - this.#t0) / 1000;
    const pct = (cpu: number) => Math.round(cpu / seconds * 1000) / 10;
    return {
      seconds: Math.round(seconds * 10) / 10,
      machineCpuPercent: pct(machineBusySeconds() - this.#busy0),
      gatewayCpuPercent: pct(totalCpu(this.gateways) - this.#gw0),
    };
  }
}

async function oneHold(options: BenchOptions): Promise<unknown> {
  const system: System = await startSystem("wsgw", options.nodes);
  let fleet: ResumeFleet | undefined;
  let pusher: SteadyPusher | undefined;
  try {
    // Settle: a fresh process is still compiling and allocating.
    await sleep(1000);
    const rssBefore = totalRss(system.gatewayPids);
    options.say(
      `${system.label}: ramping to ${options.sockets} sockets with ${options.clients} client processes`,
    );
    const rampPhase = new Phase(system.gatewayPids);
    fleet = ResumeFleet.forRun(system, options, options.heartbeatMs);
    const { ms: rampMs, ramp, complete } = await fleet.readyForRun(options);
    const rampCpu = rampPhase.end();
    await sleep(2000);
    const opened = await fleet.stats();
    const rssAfter = totalRss(system.gatewayPids);
    options.say(
      `  ${opened.open} open in ${rampMs} ms; holding ${
        options.holdMs / 1000
      } s at ${options.pushRate} push/s`,
    );
    pusher = new SteadyPusher({
      pushUrl: system.pushUrl,
      authorization: system.authorization!,
      rate: options.pushRate,
      usersPerPush: PUSH_USERS,
      users: options.sockets,
    });
    const holdPhase = new Phase(system.gatewayPids);
    const received0 = opened.received;
    pusher.start();
    const during: { s: number; open: number; received: number }[] = [];
    const holdStart = Date.now();
    const holdEnd = holdStart + options.holdMs;
    while (Date.now() < holdEnd) {
      await sleep(Math.min(5000, holdEnd - Date.now()));
      const now = await fleet.stats();
      const point = {
        s: Math.round((Date.now() - holdStart) / 1000),
        open: now.open,
        received: now.received - received0,
      };
      during.push(point);
      options.say(
        `  hold +${point.s} s: ${point.open} open, ${point.received} received, ${pusher.counts.accepted} pushes accepted`,
      );
    }
    await pusher.stop();
    const holdCpu = holdPhase.end();
    const behind = await fleet.caughtUp(pusher.expected, 30_000);
    const final = await fleet.stats();
    const received = final.received - received0;
    const rates = rampRates(ramp);
    const result = {
      system: system.label,
      nodes: options.nodes,
      sockets: options.sockets,
      clients: fleet.children.length,
      open: opened.open,
      /** false: not every socket was open within --time-limit; the rest were held. */
      rampComplete: complete,
      rampMs,
      connectsPerSec: Math.round(opened.open / (rampMs / 1000)),
      /** Connects/s between ramp samples: min / median / max, and the curve. */
      rampRates: rates,
      ramp,
      rssBeforeMiB: Math.round(rssBefore / 2 ** 20),
      rssAfterMiB: Math.round(rssAfter / 2 ** 20),
      rssPerConnKiB: Number(
        ((rssAfter - rssBefore) / Math.max(1, opened.open) / 1024).toFixed(1),
      ),
      clientRssMiB: Math.round(totalRss(fleet.pids) / 2 ** 20),
      ramping: rampCpu,
      holding: holdCpu,
      holdMs: options.holdMs,
      pushRate: options.pushRate,
      pushesAccepted: pusher.counts.accepted,
      pushesFailed: pusher.counts.failed,
      pushesSkipped: pusher.counts.skipped,
      /** (user, seq) pairs the router answered: messages owed to sockets. */
      deliveriesAccepted: pusher.counts.acceptedDeliveries,
      /** Messages the sockets received from the first push on. */
      deliveriesReceived: received,
      deliveriesPerSec: Math.round(received / (holdCpu.seconds || 1)),
      lost: Math.max(0, pusher.counts.acceptedDeliveries - received),
      during,
      usersBehind: behind,
      duplicates: final.duplicates,
      gaps: final.gaps,
      dropped: final.dropped,
      /** Errors while opening (dropped sockets, refused or timed-out handshakes). */
      rampErrors: fleet.rampErrors,
      errors: final.errors,
      load1: loadAverage(),
    };
    options.say(
      `  ${result.open} open at ${result.connectsPerSec}/s, RSS ${result.rssPerConnKiB} KiB/socket; ` +
        `hold: ${result.deliveriesAccepted} deliveries accepted, ${received} received, ` +
        `${behind} users behind, ${result.duplicates} duplicates, ${result.gaps} gaps, ` +
        `${result.dropped} dropped; machine CPU ${rampCpu.machineCpuPercent}% ramping, ` +
        `${holdCpu.machineCpuPercent}% holding`,
    );
    return result;
  } finally {
    await pusher?.stop();
    await fleet?.stop();
    await system.stop();
  }
}
