/**
 * One measured push run against a system whose fleet is connected: the HTTP
 * load loop in its own process, CPU of the socket-holding and API processes
 * over the measured window, receipts from the fleet. Used by the `push` and
 * `fanout-cost` scenarios.
 *
 * @module
 */
import { Child } from "./child.ts";
import type { Fleet } from "./fleet.ts";
import { LatencyHistogram } from "./histogram.ts";
import type { HttpLoadConfig } from "./http_load.ts";
import { loadAverage, totalCpu } from "./proc_stats.ts";
import { profileFlags, type System } from "./systems.ts";

/** The HTTP side of a push run. */
export type PushLoad = {
  users: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
};

/** Figures of one push run. */
export type PushFigures = {
  requests: number;
  pushRps: number;
  apiP50Ms: number;
  apiP99Ms: number;
  e2eP50Ms: number;
  e2eP99Ms: number;
  deliveries: number;
  deliveriesPerSec: number;
  gatewayCpuSeconds: number;
  apiCpuSeconds: number;
  gatewayCpuPer10kPushes: number;
  apiCpuPer10kPushes: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  load1: number;
};

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** Waits until a wsgw router's route cache holds every (user, node) pair the gateways hold. */
export async function waitForRoutes(
  system: System,
  timeoutMs = 60_000,
): Promise<void> {
  if (system.dialect !== "wsgw") return;
  const api = new URL(system.pushUrl).origin;
  const gauge = async (url: string, name: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const match = new RegExp(`^${name} (\\d+)`, "m").exec(text);
    return match ? Number(match[1]) : 0;
  };
  const deadline = Date.now() + timeoutMs;
  let held = 0;
  let routes = 0;
  while (Date.now() < deadline) {
    held = (await Promise.all(
      (system.gatewayMetricsUrls ?? []).map((url) => gauge(url, "wsgw_users")),
    )).reduce((a, b) => a + b, 0);
    routes = await gauge(api, "wsgw_route_cache_entries");
    if (held > 0 && routes >= held) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `the router's route cache did not catch up within ${
      timeoutMs / 1000
    } s: it has ${routes} (user, node) pairs, the gateways hold ${held}`,
  );
}

/** Runs the HTTP load loop once and measures it. */
export async function measurePush(
  system: System,
  fleet: Fleet,
  load: PushLoad,
  say: (text: string) => void,
): Promise<PushFigures> {
  const config: HttpLoadConfig = {
    url: system.pushUrl,
    authorization: system.authorization,
    ...load,
  };
  const loader = new Child(
    "http-load",
    new URL("./http_load.ts", import.meta.url).pathname,
    {
      args: [JSON.stringify(config)],
      denoFlags: profileFlags("http-load"),
    },
  );
  const off = loader.on((line) => {
    if (line.type === "progress") {
      say(`  push: ${line.rps} req/s${line.measuring ? "" : " (warm-up)"}`);
    }
  });
  try {
    await loader.next("measuring", load.warmupMs + 60_000);
    await fleet.reset();
    const gw0 = totalCpu(system.gatewayPids);
    const api0 = totalCpu(system.apiPids);
    const done = await loader.next("done", load.durationMs + 60_000);
    const gw1 = totalCpu(system.gatewayPids);
    const api1 = totalCpu(system.apiPids);
    const load1 = loadAverage();
    // Deliveries of the last accepted pushes are still on their way.
    await new Promise((r) => setTimeout(r, 1000));
    const received = await fleet.stats();
    const api = new LatencyHistogram();
    api.merge(done.latency as [number, number][]);
    const requests = done.requests as number;
    const seconds = (done.measuredMs as number) / 1000;
    const per10k = (cpu: number) =>
      requests > 0 ? round(cpu / requests * 10_000, 3) : 0;
    return {
      requests,
      pushRps: Math.round(requests / seconds),
      apiP50Ms: api.quantile(0.5),
      apiP99Ms: api.quantile(0.99),
      e2eP50Ms: received.latency.quantile(0.5),
      e2eP99Ms: received.latency.quantile(0.99),
      deliveries: received.received,
      deliveriesPerSec: Math.round(received.received / seconds),
      gatewayCpuSeconds: round(gw1 - gw0),
      apiCpuSeconds: round(api1 - api0),
      gatewayCpuPer10kPushes: per10k(gw1 - gw0),
      apiCpuPer10kPushes: per10k(api1 - api0),
      statuses: done.statuses as Record<string, number>,
      errors: done.errors as Record<string, number>,
      load1,
    };
  } finally {
    off();
    // It exits by itself after "done" (writing its profile, if asked).
    await Promise.race([
      loader.process.status,
      new Promise((r) => setTimeout(r, 5000)),
    ]);
    await loader.kill(3000);
  }
}
