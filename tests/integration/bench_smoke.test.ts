/**
 * A quick run of every `deno task bench` scenario at tiny sizes, each as its
 * own process with `--json`: it completes and reports sane numbers. The
 * figures themselves are in docs/BENCHMARKS.md.
 *
 * @module
 */
import assert from "node:assert/strict";

const MAIN = new URL("../../ops/bench/main.ts", import.meta.url).pathname;

type Result = {
  scenario: string;
  machine: { nproc: number; node?: string };
  results: Record<string, unknown>[];
};

async function bench(...args: string[]): Promise<Result> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args, "--json"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(
    output.code,
    0,
    `bench ${args.join(" ")} failed:\n${stderr.slice(-2000)}`,
  );
  const result = JSON.parse(new TextDecoder().decode(output.stdout)) as Result;
  assert.equal(result.scenario, args[0]);
  assert.ok(result.machine.nproc >= 1);
  return result;
}

const PUSH = [
  "--sockets",
  "100",
  "--concurrency",
  "20",
  "--warmup",
  "0.5",
  "--duration",
  "1",
];

type PushRun = {
  pushRps: number;
  deliveries: number;
  e2eP50Ms: number;
  gatewayCpuPer10kPushes: number;
  statuses: Record<string, number>;
};

function assertPushRuns(results: Record<string, unknown>[]): void {
  for (const result of results) {
    for (const run of result.runs as PushRun[]) {
      assert.ok(run.pushRps > 0, `${result.system}: no pushes`);
      assert.ok(run.deliveries > 0, `${result.system}: nothing delivered`);
      assert.ok(
        run.e2eP50Ms >= 0 && run.e2eP50Ms < 10_000,
        `${result.system}: e2e p50 ${run.e2eP50Ms}`,
      );
      assert.ok(
        run.gatewayCpuPer10kPushes > 0,
        `${result.system}: no gateway CPU`,
      );
      assert.deepEqual(
        Object.keys(run.statuses),
        ["200"],
        `${result.system}: statuses`,
      );
    }
  }
}

Deno.test("bench - push: raw and embedded wsgw, side by side", async () => {
  const { results } = await bench(
    "push",
    "--systems",
    "raw,wsgw-embedded",
    ...PUSH,
  );
  assert.equal(results.length, 2);
  assertPushRuns(results);
});

Deno.test("bench - push, open loop: the offered rate is kept and CPU is given per delivered push", async () => {
  const { results } = await bench(
    "push",
    "--systems",
    "wsgw-embedded",
    "--devices",
    "1",
    "--push-rate",
    "200",
    ...PUSH,
  );
  assertPushRuns(results);
  const [run] = results[0]!.runs as (PushRun & {
    offeredRps: number;
    backlog: number;
    deliveredPushRps: number;
    gatewayUsPerDelivered: number;
    machineCpuPercent: number;
  })[];
  assert.equal(run!.offeredRps, 200);
  // A closed loop of 20 connections pushes thousands a second; the open
  // loop no more than is due (a late warm-up can catch up inside the window).
  assert.ok(run!.pushRps > 0 && run!.pushRps <= 400, `${run!.pushRps}/s`);
  assert.ok(run!.deliveredPushRps > 0);
  assert.ok(run!.gatewayUsPerDelivered > 0);
  assert.ok(run!.machineCpuPercent > 0);
  assert.match(String(results[0]!.system), /open loop 200 push\/s/);
});

Deno.test("bench - fanout-cost: wsgw cluster and Socket.IO (on Node) on 1 and 2 nodes", async () => {
  const { results, machine } = await bench(
    "fanout-cost",
    "--node-counts",
    "1,2",
    ...PUSH,
  );
  assert.deepEqual(results.map((r) => `${r.kind}/${r.nodes}`), [
    "wsgw/1",
    "sio/1",
    "wsgw/2",
    "sio/2",
  ]);
  assertPushRuns(results);
  // `sio` is Socket.IO on Node, as its users run it, and says so.
  assert.match(String(machine.node), /^v\d+\./);
  for (const result of results.filter((r) => r.kind === "sio")) {
    assert.match(
      String(result.system),
      /^Socket\.IO \+ redis-adapter on Node v/,
    );
  }
});

Deno.test("bench - connections: every socket opens, RSS (also after a forced GC) and idle CPU measured", async () => {
  const { results } = await bench(
    "connections",
    "--systems",
    "raw,wsgw,sio",
    "--nodes",
    "1",
    "--sockets",
    "200",
    "--idle",
    "0.5",
  );
  for (const result of results) {
    const [run] = result.runs as {
      open: number;
      failed: number;
      rssPerConnKiB: number;
      rssPerConnAfterGcKiB: number;
      anonRssPerConnAfterGcKiB: number;
      heapUsedPerConnKiB: number;
      connectsPerSec: number;
      cpuUsPerConnect: number;
      etcd?: {
        perConnect: { puts: number; ranges: number };
        perDisconnect: { deletes: number };
      };
    }[];
    assert.equal(run!.open, 200, `${result.system}: open`);
    assert.equal(run!.failed, 0);
    assert.ok(run!.connectsPerSec > 0);
    // /proc counts CPU in 10 ms ticks: 200 cheap connects may read 0.
    assert.ok(Number.isInteger(run!.cpuUsPerConnect));
    assert.ok(run!.cpuUsPerConnect >= 0);
    assert.ok(Number.isFinite(run!.rssPerConnKiB));
    assert.ok(Number.isFinite(run!.rssPerConnAfterGcKiB));
    assert.ok(Number.isFinite(run!.anonRssPerConnAfterGcKiB));
    // Read through each server's inspector after a forced GC: every system
    // keeps something on its heap per open socket.
    assert.ok(
      run!.heapUsedPerConnKiB > 0,
      `${result.system}: heap per socket ${run!.heapUsedPerConnKiB} KiB`,
    );
    if (result.system === "wsgw") {
      // 200 sockets of 20 users: one put per user and socket change at
      // most, and every user's key deleted once they are all gone.
      assert.ok(run!.etcd, "etcd figures for wsgw");
      assert.ok(run!.etcd.perConnect.puts > 0);
      assert.ok(run!.etcd.perConnect.ranges > 0);
      assert.ok(run!.etcd.perDisconnect.deletes > 0);
    }
  }
});

Deno.test("bench - broadcast: every socket receives it, Socket.IO on Node and under Deno alike", async () => {
  const { results } = await bench(
    "broadcast",
    "--systems",
    "raw,wsgw,sio,sio-deno",
    "--nodes",
    "1",
    "--sockets",
    "200",
    "--runs",
    "1",
  );
  for (const result of results) {
    const [run] = result.runs as {
      received: number;
      sockets: number;
      deliveriesPerSec: number;
      nodeUsPerDelivery: number;
    }[];
    assert.equal(run!.received, run!.sockets, `${result.system}: received`);
    assert.ok(run!.deliveriesPerSec > 0);
    assert.ok(
      Number.isFinite(run!.nodeUsPerDelivery) && run!.nodeUsPerDelivery >= 0,
      `${result.system}: node CPU per delivery ${run!.nodeUsPerDelivery}`,
    );
  }
  assert.deepEqual(
    results.map((r) => String(r.system).match(/on (Node|Deno)/)?.[1] ?? "-"),
    ["-", "-", "Node", "Deno"],
  );
});

Deno.test("bench - registry: mappings registered and loaded by a cold route cache", async () => {
  const { results } = await bench(
    "registry",
    "--mappings",
    "2000",
    "--runs",
    "1",
  );
  const [result] = results as {
    registerMs: number;
    etcdPerRegistration: { puts: number };
    etcdDbBytes: number;
    coldStarts: { entries: number; loadMs: number }[];
  }[];
  assert.ok(result!.registerMs > 0);
  // One put per user, plus the 4 node records: 2004 / 2000.
  assert.equal(result!.etcdPerRegistration.puts, 1.002);
  assert.ok(result!.etcdDbBytes > 0);
  assert.equal(result!.coldStarts[0]!.entries, 2000);
});

Deno.test("bench - storm: a killed node's clients come back on the others, nothing lost or doubled", async () => {
  const { results } = await bench(
    "storm",
    "--sockets",
    "120",
    "--nodes",
    "2",
    "--clients",
    "1",
  );
  const [result] = results as {
    dropped: number;
    reconnected: number;
    usersBehind: number;
    duplicates: number;
    gaps: number;
    pushes: number;
    backMs: { all: number | null };
  }[];
  assert.equal(result!.dropped, 60, "node 1 held every other socket");
  assert.equal(result!.reconnected, 60);
  assert.ok(result!.pushes > 0);
  assert.equal(result!.usersBehind, 0, "every socket caught up");
  assert.equal(result!.duplicates, 0);
  assert.equal(result!.gaps, 0);
  assert.ok(result!.backMs.all !== null);
});

Deno.test("bench - latency: capacities, then the same offered rate for every system", async () => {
  const result = await bench(
    "latency",
    "--systems",
    "raw,wsgw",
    "--nodes",
    "1",
    "--runs",
    "1",
    "--fractions",
    "0.5",
    ...PUSH,
  ) as Result & {
    capacities: { system: string; deliveredPushRps: number }[];
    weakest: { deliveredPushRps: number };
  };
  assert.equal(result.capacities.length, 2);
  const weakest = Math.min(
    ...result.capacities.map((c) => c.deliveredPushRps),
  );
  assert.ok(weakest > 0);
  assert.equal(result.weakest.deliveredPushRps, weakest);
  assert.deepEqual(result.results.map((r) => r.kind), ["raw", "wsgw"]);
  for (const r of result.results) {
    assert.equal(r.offeredRps, Math.max(1, Math.round(weakest / 2)));
    assert.match(String(r.system), /open loop at 50% of/);
  }
  assertPushRuns(result.results);
});

Deno.test("bench - hold: sockets held with pushes flowing, every accepted delivery arrives once", async () => {
  const { results } = await bench(
    "hold",
    "--sockets",
    "150",
    "--nodes",
    "2",
    "--hold",
    "2",
    "--push-rate",
    "20",
  );
  const [result] = results as {
    open: number;
    connectsPerSec: number;
    rssPerConnKiB: number;
    rampRates: { byTenth: number[] };
    pushesAccepted: number;
    deliveriesAccepted: number;
    deliveriesReceived: number;
    lost: number;
    usersBehind: number;
    duplicates: number;
    gaps: number;
    dropped: number;
    holding: { machineCpuPercent: number };
  }[];
  assert.equal(result!.open, 150);
  assert.ok(result!.connectsPerSec > 0);
  assert.equal(result!.rampRates.byTenth.length, 10);
  assert.ok(Number.isFinite(result!.rssPerConnKiB));
  assert.ok(result!.pushesAccepted > 0, "pushes flowed");
  assert.ok(result!.deliveriesAccepted > 0);
  assert.equal(result!.deliveriesReceived, result!.deliveriesAccepted);
  assert.equal(result!.lost, 0);
  assert.equal(result!.usersBehind, 0);
  assert.equal(result!.duplicates, 0);
  assert.equal(result!.gaps, 0);
  assert.equal(result!.dropped, 0);
  assert.ok(result!.holding.machineCpuPercent > 0);
});

Deno.test("bench - a layout past the open-file limit is refused, naming the flag", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    // After the kill, one survivor would hold all 100,000: past any port
    // range (at most 64,512 ports) whatever the open-file limit.
    args: ["run", "-A", MAIN, "storm", "--sockets", "100000", "--nodes", "2"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 2);
  assert.match(
    new TextDecoder().decode(output.stderr),
    /--nodes 2: up to 100000 sockets on one node.*use --nodes \d+ or more/,
  );
});

Deno.test("bench - wakeup: CPU per timer firing of an idle Deno and Node process", async () => {
  const { results } = await bench("wakeup", "--runs", "1", "--duration", "1");
  assert.deepEqual(
    results.map((r) => String(r.system).replace(/ [\d.v]+,/, ",")),
    [
      "deno, every 100 ms",
      "node, every 100 ms",
      "deno, every 10 ms",
      "node, every 10 ms",
      "deno, every 1 ms",
      "node, every 1 ms",
    ],
  );
  for (const result of results) {
    const [run] = result.runs as { firings: number; usPerFiring: number }[];
    assert.ok(run!.firings > 0, `${result.system}: fired`);
    assert.ok(run!.usPerFiring > 0, `${result.system}: CPU read`);
  }
});
