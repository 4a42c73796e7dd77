/**
 * Runs one chaos case: a 3-node cluster with one router (real processes),
 * a fleet of reconnecting clients spread over the nodes, a steady pusher; a
 * fault injected mid-stream; a final settle where every client is connected;
 * then the figures, printed. `WSGW_CHAOS_LONG=1` runs the long version.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import assert from "node:assert/strict";
import type { Cluster } from "../../ops/cluster.ts";
import { metric, startTestCluster } from "./cluster.ts";
import {
  type ChaosFigures,
  chaosFigures,
  formatFigures,
  owedAfter,
} from "./chaos_figures.ts";
import { ChaosFleet, isLive } from "./chaos_fleet.ts";
import { SteadyPusher } from "./chaos_pusher.ts";

/** Sizes of a run: the short default, or the long one with `WSGW_CHAOS_LONG=1`. */
export const CHAOS = Deno.env.get("WSGW_CHAOS_LONG") === "1"
  ? { users: 300, rate: 100, batch: 10, beforeMs: 5000, afterMs: 10_000 }
  : { users: 300, rate: 50, batch: 10, beforeMs: 3000, afterMs: 5000 };

/** What a case's fault gets to work with. */
export type ChaosContext = {
  cluster: Cluster;
  fleet: ChaosFleet;
  pusher: SteadyPusher;
  /** Adds a line to the printed figures. */
  note(name: string, value: string | number): void;
};

/** A chaos case. */
export type ChaosCase = {
  name: string;
  /** Other sizes than {@link CHAOS} (users, rate, batch, before/after). */
  sizes?: Partial<typeof CHAOS>;
  /** The last this many devices are not connected before the stream: the fault connects them. */
  late?: number;
  /** Injects the fault mid-stream and undoes it (restart, start again). */
  fault(ctx: ChaosContext): Promise<void>;
};

/** The result of {@link runChaosCase}. */
export type ChaosResult = {
  figures: ChaosFigures;
  notes: Record<string, string | number>;
  /** Milliseconds the final settle took. */
  settleMs: number;
};

/** Milliseconds the final settle may take before the figures are counted as they are. */
const SETTLE_TIMEOUT_MS = 30_000;

/** Runs `spec` on a fresh cluster; see the module doc. */
export async function runChaosCase(spec: ChaosCase): Promise<ChaosResult> {
  const sizes = { ...CHAOS, ...spec.sizes };
  await using cluster = await startTestCluster({ nodes: 3, leaseTtl: 3 });
  const users = Array.from(
    { length: sizes.users },
    (_, i) => `u${String(i).padStart(4, "0")}`,
  );
  await using fleet = new ChaosFleet({
    nodes: cluster.gateways.map((g) => g.wsUrl),
    token: (user) => cluster.token(user),
    users,
  });
  const early = fleet.devices.slice(0, users.length - (spec.late ?? 0));
  await fleet.connect(early);
  await waitUntil(
    async () =>
      await metric(cluster.router, "wsgw_route_cache_entries") >= early.length,
    30_000,
    "the router to know every user",
  );

  const pusher = new SteadyPusher({
    router: () => cluster.router,
    apiKey: cluster.apiKey,
    users,
    rate: sizes.rate,
    batch: sizes.batch,
  });
  const notes: Record<string, string | number> = {};
  const streamFrom = Date.now();
  pusher.start();
  let faultAt = streamFrom;
  let streamTo = streamFrom;
  try {
    await sleep(sizes.beforeMs);
    faultAt = Date.now();
    await spec.fault({
      cluster,
      fleet,
      pusher,
      note: (name, value) => notes[name] = value,
    });
    notes["fault and recovery took"] = `${Date.now() - faultAt} ms`;
    await sleep(sizes.afterMs);
  } finally {
    streamTo = Date.now();
    await pusher.stop();
  }

  const settleFrom = Date.now();
  await settle(fleet, pusher).catch((error) => {
    notes["settle"] = `incomplete: ${error.message}`;
  });
  const settleMs = Date.now() - settleFrom;
  notes["final settle"] = `${settleMs} ms`;
  // What the nodes did about it (counters of the nodes running now).
  let dropped = 0;
  let replayed = 0;
  for (const gateway of cluster.gateways) {
    if (!gateway.running) continue;
    dropped += await metric(
      gateway.internalUrl,
      "wsgw_duplicates_dropped_total",
    );
    replayed += await metric(
      gateway.internalUrl,
      "wsgw_replayed_messages_total",
    );
  }
  notes["nodes: duplicates dropped / replayed"] = `${dropped} / ${replayed}`;
  const figures = chaosFigures({
    name: spec.name,
    devices: fleet.devices,
    pushes: pusher.pushes,
    faultAt,
    streamFrom,
    streamTo,
  });
  console.log(formatFigures(figures, notes));
  await recordFigures(figures, notes, sizes);
  return { figures, notes, settleMs };
}

/**
 * Waits until every client is connected and every seq the answers promised
 * its user has reached it (or the settle timeout passes).
 */
async function settle(fleet: ChaosFleet, pusher: SteadyPusher): Promise<void> {
  const owed = new Map<string, number[]>();
  for (const push of pusher.accepted) {
    for (const { user, seq } of push.answer!.results) {
      if (seq === null) continue;
      let list = owed.get(user);
      if (!list) owed.set(user, list = []);
      list.push(seq);
    }
  }
  await waitUntil(
    () =>
      fleet.devices.every((device) => {
        if (!isLive(device)) return false;
        const seen = new Set<number>();
        for (const c of device.connections) {
          for (const m of c.messages) if (m.seq !== undefined) seen.add(m.seq);
        }
        const after = owedAfter(device);
        return (owed.get(device.user) ?? []).every((seq) =>
          seq <= after || seen.has(seq)
        );
      }),
    SETTLE_TIMEOUT_MS,
    "every client connected with every accepted message",
  );
}

/**
 * What must hold after every case: every push accepted, every (device, seq)
 * the answers promise received, none twice on one connection, none out of
 * order, no hole inside a connection, none to the wrong user, every device
 * receiving after the fault.
 */
export function assertClean(figures: ChaosFigures): void {
  assert.equal(figures.accepted, figures.pushes, "every push accepted");
  assert.equal(figures.lost, 0, "lost");
  assert.equal(figures.duplicated, 0, "duplicated on one connection");
  assert.equal(figures.outOfOrder, 0, "out of order on one connection");
  assert.equal(figures.holes, 0, "holes inside one connection");
  assert.equal(figures.misrouted, 0, "misrouted");
  assert.notEqual(figures.recoveryMs, null, "every device received again");
}

/** Appends the figures as a JSON line to `$WSGW_CHAOS_FIGURES`, when set. */
async function recordFigures(
  figures: ChaosFigures,
  notes: Record<string, string | number>,
  sizes: typeof CHAOS,
): Promise<void> {
  const path = Deno.env.get("WSGW_CHAOS_FIGURES");
  if (!path) return;
  const line = JSON.stringify({
    at: new Date().toISOString(),
    ...sizes,
    figures,
    notes,
  });
  await Deno.writeTextFile(path, line + "\n", { append: true });
}

/** Polls `predicate` every 50 ms; rejects naming `what` after `timeoutMs`. */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (await Promise.resolve().then(predicate).catch(() => false)) {
      return Date.now();
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The HTTP status of `<url>/readyz`, 0 when it does not answer. */
export async function readyStatus(url: string): Promise<number> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 3000);
  try {
    const response = await fetch(`${url}/readyz`, { signal: abort.signal });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0; // not listening (killed, restarting)
  } finally {
    clearTimeout(timer);
  }
}
