/**
 * One measured push run against a system whose fleet is connected: the HTTP
 * load loop in its own process (closed or open loop), CPU over the measured
 * window of every process (socket holders, push API, backends, load loop,
 * load clients) and of the whole machine, receipts from the fleet. CPU is
 * given per *delivered* push (deliveries / devices per user): a system that
 * accepts faster than it delivers is charged for what it delivered. Used by
 * the `push` and `fanout-cost` scenarios.
 *
 * @module
 */
import { Child } from "./child.ts";
import type { Fleet } from "./fleet.ts";
import { LatencyHistogram } from "./histogram.ts";
import type { HttpLoadConfig } from "./http_load.ts";
import { loadAverage, machineBusySeconds, totalCpu } from "./proc_stats.ts";
import { profileFlags, type System } from "./systems.ts";

/** The HTTP side of a push run. */
export type PushLoad = {
  users: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Pushes/s offered (open loop); 0 for a closed loop. */
  rate: number;
  /** Devices per user: a delivered push is this many deliveries. */
  devices: number;
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
  /** Open loop: pushes/s offered; 0 for a closed loop. */
  offeredRps: number;
  /** Open loop: due pushes still unsent when the window closed. */
  backlog: number;
  /** Where e2e latency starts: the loader's due time (`sent`) in every run. */
  e2eFrom: "sent";
  deliveredPushes: number;
  deliveredPushRps: number;
  /** CPU µs per delivered push, by process group. */
  gatewayUsPerDelivered: number;
  apiUsPerDelivered: number;
  backendUsPerDelivered: number;
  /** gateways + API + backends: the system under test. */
  systemUsPerDelivered: number;
  /** CPU % (of one core) of the load loop and of the load clients. */
  loaderCpuPercent: number;
  clientsCpuPercent: number;
  /** Busy CPU % of the whole machine (200 = both cores), others included. */
  machineCpuPercent: number;
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
    users: load.users,
    concurrency: load.concurrency,
    warmupMs: load.warmupMs,
    durationMs: load.durationMs,
    rate: load.rate,
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
    const groups = () => [
      totalCpu(system.gatewayPids),
      totalCpu(system.apiPids),
      totalCpu(system.backendPids),
      totalCpu([loader.pid]),
      totalCpu(fleet.pids),
      machineBusySeconds(),
    ];
    const before = groups();
    const done = await loader.next("done", load.durationMs + 60_000);
    const used = groups().map((x, i) => x - before[i]!);
    const [gwCpu, apiCpu, backendCpu, loaderCpu, clientsCpu, machineCpu] =
      used as [number, number, number, number, number, number];
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
    const delivered = received.received / load.devices;
    const usPer = (cpu: number) =>
      delivered > 0 ? round(cpu / delivered * 1e6, 1) : 0;
    const percent = (cpu: number) => round(cpu / seconds * 100, 1);
    return {
      requests,
      pushRps: Math.round(requests / seconds),
      apiP50Ms: api.quantile(0.5),
      apiP99Ms: api.quantile(0.99),
      e2eP50Ms: received.latency.quantile(0.5),
      e2eP99Ms: received.latency.quantile(0.99),
      deliveries: received.received,
      deliveriesPerSec: Math.round(received.received / seconds),
      gatewayCpuSeconds: round(gwCpu),
      apiCpuSeconds: round(apiCpu),
      gatewayCpuPer10kPushes: per10k(gwCpu),
      apiCpuPer10kPushes: per10k(apiCpu),
      offeredRps: load.rate,
      backlog: (done.backlog as number | undefined) ?? 0,
      e2eFrom: "sent",
      deliveredPushes: Math.round(delivered),
      deliveredPushRps: Math.round(delivered / seconds),
      gatewayUsPerDelivered: usPer(gwCpu),
      apiUsPerDelivered: usPer(apiCpu),
      backendUsPerDelivered: usPer(backendCpu),
      systemUsPerDelivered: usPer(gwCpu + apiCpu + backendCpu),
      loaderCpuPercent: percent(loaderCpu),
      clientsCpuPercent: percent(clientsCpu),
      machineCpuPercent: percent(machineCpu),
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
