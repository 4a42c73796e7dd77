/**
 * The live `/metrics` of a real gateway and a real router (processes started
 * as `deno task gateway` / `deno task router` would, against a test etcd and
 * redis-server): promtool accepts them, prom-client's process metrics work,
 * every metric the dashboard, the alerts and the docs name exists, and every
 * log line the processes wrote is a JSON event with its process id and no
 * secret, token or message body.
 */
import assert from "node:assert/strict";
import { signToken } from "../../shared/token.ts";
import { startEtcd } from "../../ops/servers/etcd_server.ts";
import {
  exposedMetrics,
  isExposed,
  opsTest,
  queriedMetrics,
  ROOT,
  run,
  sampleValue,
  skipUnless,
} from "../_support/ops_tools.ts";
import { startRedis } from "../../ops/servers/redis_server.ts";
import { freePort, waitFor } from "../_support/until.ts";
import { rawUpgrade, TestClient } from "../_support/ws_client.ts";

/**
 * Lint findings promtool reports on prom-client's own default metrics
 * (gauges named `_total`), which we cannot rename. Anything else fails.
 */
const UPSTREAM_LINT =
  /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

/** A wsgw process started by {@link spawn}. */
type Child = {
  url: string;
  /** SIGTERM (a gateway drains), then its log lines once it has exited. */
  stop(): Promise<string[]>;
};

function spawn(
  entry: string,
  env: Record<string, string>,
): Child {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", entry],
    cwd: ROOT,
    env: { ...env, PORT: String(port), NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let stopped: Promise<string[]> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      stopped ??= (async () => {
        try {
          child.kill("SIGTERM");
        } catch {
          // Exited already (a failed start): its output tells why.
        }
        const { stdout, stderr } = await output;
        const decode = (b: Uint8Array) => new TextDecoder().decode(b);
        return (decode(stdout) + decode(stderr)).split("\n").filter((l) =>
          l.trim() !== ""
        );
      })(),
  };
}

async function text(url: string): Promise<string> {
  const response = await fetch(url);
  return await response.text();
}

async function ready(child: Child, what: string): Promise<void> {
  await waitFor(async () => {
    const response = await fetch(`${child.url}/readyz`).catch(() => undefined);
    await response?.body?.cancel();
    return response?.status === 200;
  }, { timeout: 30_000, interval: 100, what: `${what} ready` });
}

/** `promtool check metrics` on an exposition; fails on anything but upstream lint. */
async function checkMetrics(exposition: string, what: string): Promise<void> {
  const ran = await run("promtool", ["check", "metrics"], {
    stdin: exposition,
  });
  const problems = (ran.stdout + ran.stderr).split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !UPSTREAM_LINT.test(line));
  // 0: clean; 3: lint findings only (all upstream, see above); 1: broken.
  assert.ok(
    (ran.code === 0 || ran.code === 3) && problems.length === 0,
    `promtool check metrics on the ${what} (exit ${ran.code}):\n${
      problems.join("\n")
    }`,
  );
}

/** The `expr` values of alerts.yml (single-line or folded `>-` blocks). */
function alertExpressions(rules: string): string[] {
  const lines = rules.split("\n");
  const exprs: string[] = [];
  for (const [i, line] of lines.entries()) {
    const match = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!match) continue;
    if (!/^[>|]/.test(match[2]!)) {
      exprs.push(match[2]!);
      continue;
    }
    const indent = match[1]!.length;
    const body: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() !== "" && next.search(/\S/) <= indent) break;
      body.push(next.trim());
    }
    exprs.push(body.join(" "));
  }
  return exprs;
}

opsTest(
  "ops - live /metrics of a gateway and a router: promtool, defaults, dashboard, alerts, docs, logs",
  ["etcd", "redis-server"],
  async (t) => {
    await using etcd = await startEtcd();
    await using redis = await startRedis();
    const secrets = {
      WSGW_API_KEYS: `ops-key-${crypto.randomUUID()}`,
      WSGW_JWT_SECRET: `ops-jwt-${crypto.randomUUID()}`,
      WSGW_INTERNAL_SECRET: `ops-internal-${crypto.randomUUID()}`,
    };
    const env = {
      ...secrets,
      WSGW_ETCD: etcd.endpoint,
      WSGW_REDIS: redis.url,
      WSGW_LOG_LEVEL: "debug",
    };
    const internalPort = freePort();
    const gateway = spawn("gateway/main.ts", {
      ...env,
      WSGW_NODE_ID: "ops-gateway",
      WSGW_INTERNAL_PORT: String(internalPort),
    });
    // A cluster gateway serves /metrics on its internal port only.
    const gatewayInternal = `http://127.0.0.1:${internalPort}`;
    const router = spawn("router/main.ts", {
      ...env,
      WSGW_NODE_ID: "ops-router",
    });
    let gatewayLog: string[] = [];
    let routerLog: string[] = [];
    const body = `ops-body-${crypto.randomUUID()}`;
    const token = await signToken(secrets.WSGW_JWT_SECRET, {
      sub: "ops-user",
      device: "phone",
    });
    let gatewayMetrics: string;
    let routerMetrics: string;
    try {
      await Promise.all([ready(gateway, "gateway"), ready(router, "router")]);

      // Traffic, so that labelled series have samples: a connect, a push
      // delivered live, a refused token, a disconnect.
      const ws = `${gateway.url.replace("http", "ws")}/ws?token=${token}`;
      const { client } = await TestClient.welcomed(ws);
      await waitFor(
        async () =>
          sampleValue(
            await text(`${router.url}/metrics`),
            "wsgw_route_cache_entries",
          ) === 1,
        { timeout: 10_000, what: "the router to see ops-user" },
      );
      const push = await fetch(`${router.url}/v1/push`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${secrets.WSGW_API_KEYS}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ users: ["ops-user"], data: { body } }),
      });
      assert.equal(push.status, 200, await push.text());
      await client.waitMessages(1);
      assert.equal(
        (await rawUpgrade(gateway.url, "/ws?token=not-a-token")).status,
        401,
      );
      await client.close();
      await waitFor(
        async () =>
          sampleValue(
            await text(`${gatewayInternal}/metrics`),
            "wsgw_users",
          ) === 0,
        { what: "the disconnect to be counted" },
      );

      const publicMetrics = await fetch(`${gateway.url}/metrics`);
      await publicMetrics.body?.cancel();
      assert.equal(publicMetrics.status, 404, "/metrics on the public port");
      gatewayMetrics = await text(`${gatewayInternal}/metrics`);
      routerMetrics = await text(`${router.url}/metrics`);
    } catch (error) {
      const logs = await Promise.all([gateway.stop(), router.stop()]);
      throw new Error(
        `${error}\n--- gateway log:\n${logs[0].join("\n")}\n--- router log:\n${
          logs[1].join("\n")
        }`,
        { cause: error },
      );
    } finally {
      [gatewayLog, routerLog] = await Promise.all([
        gateway.stop(),
        router.stop(),
      ]);
    }

    await t.step({
      ...skipUnless("promtool check metrics", ["promtool"]),
      fn: async () => {
        await checkMetrics(gatewayMetrics, "gateway");
        await checkMetrics(routerMetrics, "router");
      },
    });

    // prom-client's defaults that Deno fills without -A (memory from
    // Deno.memoryUsage(); the /proc-based fd counts are left out).
    for (const exposition of [gatewayMetrics, routerMetrics]) {
      for (
        const series of [
          "process_resident_memory_bytes",
          "process_cpu_seconds_total",
          "nodejs_heap_size_used_bytes",
        ]
      ) {
        const value = sampleValue(exposition, series);
        assert.ok(value !== undefined && value > 0, `${series} = ${value}`);
      }
      assert.notEqual(
        sampleValue(exposition, "nodejs_eventloop_lag_p99_seconds"),
        undefined,
      );
      assert.equal(
        sampleValue(exposition, 'wsgw_backend_up{backend="etcd"}'),
        1,
      );
      assert.equal(
        sampleValue(exposition, 'wsgw_backend_up{backend="redis"}'),
        1,
      );
    }
    assert.equal(sampleValue(gatewayMetrics, "wsgw_connects_total"), 1);
    assert.equal(
      sampleValue(gatewayMetrics, 'wsgw_disconnects_total{code="1000"}'),
      1,
    );
    assert.equal(sampleValue(gatewayMetrics, "wsgw_node_ready"), 1);
    assert.ok(sampleValue(gatewayMetrics, "wsgw_registry_ops_total")! >= 2);
    assert.equal(
      sampleValue(gatewayMetrics, "wsgw_delivery_lag_seconds_count"),
      1,
    );
    assert.equal(sampleValue(routerMetrics, "wsgw_route_cache_ready"), 1);
    assert.ok(
      sampleValue(
        routerMetrics,
        "wsgw_route_cache_last_event_timestamp_seconds",
      )! > Date.now() / 1000 - 60,
    );

    // Label sets are bounded: no user id in any series.
    for (const exposition of [gatewayMetrics, routerMetrics]) {
      assert.ok(!exposition.includes("ops-user"), "a user id in a metric");
    }

    // Everything the dashboard, the alerts and the docs name is exposed.
    const families = new Map([
      ...exposedMetrics(gatewayMetrics),
      ...exposedMetrics(routerMetrics),
    ]);
    const dashboard = JSON.parse(
      await Deno.readTextFile(`${ROOT}ops/grafana/dashboards/wsgw.json`),
    ) as { panels: { title: string; targets?: { expr: string }[] }[] };
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets ?? []) {
        for (const name of queriedMetrics(expr)) {
          assert.ok(
            isExposed(name, families),
            `dashboard panel "${panel.title}" queries ${name}, which no process exposes`,
          );
        }
      }
    }
    const rules = await Deno.readTextFile(
      `${ROOT}ops/prometheus/alerts.yml`,
    );
    const exprs = alertExpressions(rules);
    assert.equal(exprs.length, [...rules.matchAll(/- alert: /g)].length);
    for (const expr of exprs) {
      for (const name of queriedMetrics(expr)) {
        assert.ok(isExposed(name, families), `alert queries unknown ${name}`);
      }
    }
    const protocol = await Deno.readTextFile(`${ROOT}docs/PROTOCOL.md`);
    for (const [, name] of protocol.matchAll(/^\| `(wsgw_[a-z_]+)[`{]/gm)) {
      assert.ok(families.has(name!), `PROTOCOL.md's ${name} is not exposed`);
    }
    const runbook = await Deno.readTextFile(`${ROOT}docs/OPERATIONS.md`);
    for (const name of families.keys()) {
      if (!name.startsWith("wsgw_")) continue;
      assert.ok(
        runbook.includes(`\`${name}\``) || runbook.includes(`\`${name}{`),
        `docs/OPERATIONS.md does not describe ${name}`,
      );
    }

    // Logs: JSON events naming their process, and nothing secret in them.
    const forbidden = [...Object.values(secrets), token, body];
    for (
      const [log, field, id] of [
        [gatewayLog, "nodeId", "ops-gateway"],
        [routerLog, "routerId", "ops-router"],
      ] as const
    ) {
      assert.ok(log.length >= 3, `only ${log.length} log lines`);
      for (const line of log) {
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(line);
        } catch {
          assert.fail(`not a JSON log line: ${line}`);
        }
        assert.equal(typeof record.ts, "string", line);
        assert.match(String(record.level), /^(debug|info|warn|error)$/, line);
        assert.equal(typeof record.event, "string", line);
        assert.equal(record[field], id, line);
        for (const secret of forbidden) {
          assert.ok(!line.includes(secret), `a log line leaks: ${line}`);
        }
      }
    }
  },
);
