/**
 * Dashboards that show data: a fresh cluster (3 gateways, a router, etcd,
 * Redis with redis_exporter, haproxy with the compose config), before any
 * client or push, exposes a sample of every metric the Grafana dashboard and
 * the alert rules query. A name with only `# TYPE` and no sample (a labelled
 * counter never incremented) counts as missing: Grafana shows "no data".
 */
import assert from "node:assert/strict";
import { startTestCluster } from "../_support/cluster.ts";
import { opsTest, ROOT } from "../_support/ops_tools.ts";
import { freePort, waitFor } from "../_support/until.ts";

/** Metric names of the systems we scrape, in a PromQL expression. */
function queried(expr: string): string[] {
  return [
    ...new Set(
      expr.match(
        /\b(?:wsgw|nodejs|process|etcd|redis|haproxy)_[a-z0-9_]+\b/g,
      ) ??
        [],
    ),
  ];
}

/** Names that have at least one sample line. */
function sampled(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)[{ ]/.exec(line);
    if (match) names.add(match[1]!);
  }
  return names;
}

/** Every `expr` of alerts.yml, folded blocks joined. */
function alertExprs(rules: string): string[] {
  const lines = rules.split("\n");
  const exprs: string[] = [];
  for (const [i, line] of lines.entries()) {
    const match = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!match) continue;
    if (!/^[>|]/.test(match[2]!)) {
      exprs.push(match[2]!);
      continue;
    }
    const body: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() !== "" && next.search(/\S/) <= match[1]!.length) break;
      body.push(next.trim());
    }
    exprs.push(body.join(" "));
  }
  return exprs;
}

/** ops/haproxy/haproxy.cfg with its ports and servers moved onto the test cluster. */
function haproxyFor(
  template: string,
  ports: { ws: number; api: number; stats: number },
  gateways: number[],
  router: number,
  socket: string,
): string {
  return template
    // The global maxconn needs twice as many descriptors as this machine's
    // limit may allow (compose raises it).
    .replace(/^(\s*)maxconn \d+$/m, "$1maxconn 4000")
    .replace(/stats socket \S+/, `stats socket ${socket}`)
    .replace(/bind :8080\b/, `bind 127.0.0.1:${ports.ws}`)
    .replace(/bind :8090\b/, `bind 127.0.0.1:${ports.api}`)
    .replace(/bind :8404\b/, `bind 127.0.0.1:${ports.stats}`)
    .replace(
      /server gateway(\d) gateway\d:8080/g,
      (_, n) => `server gateway${n} 127.0.0.1:${gateways[Number(n) - 1]}`,
    )
    .replace(
      /server router(\d) router\d:8080/g,
      (_, n) => `server router${n} 127.0.0.1:${router}`,
    );
}

opsTest(
  "ops - a fresh cluster exposes every metric the dashboard and the alerts query",
  ["etcd", "redis-server", "haproxy", "prometheus-redis-exporter"],
  async () => {
    await using cluster = await startTestCluster({ nodes: 3, routers: 1 });
    const dir = await Deno.makeTempDir({ prefix: "wsgw-dashboard-" });
    const ports = { ws: freePort(), api: freePort(), stats: freePort() };
    const exporterPort = freePort();
    const template = await Deno.readTextFile(
      `${ROOT}ops/haproxy/haproxy.cfg`,
    );
    const config = haproxyFor(
      template,
      ports,
      cluster.gateways.map((g) => Number(new URL(g.url).port)),
      Number(new URL(cluster.router).port),
      `${dir}/haproxy.sock`,
    );
    assert.doesNotMatch(config, /^\s*server \S+ [a-z]+\d*:/m, "not rewritten");
    await Deno.writeTextFile(`${dir}/haproxy.cfg`, config);
    const children = [
      new Deno.Command("haproxy", {
        args: ["-db", "-f", `${dir}/haproxy.cfg`],
        stdout: "null",
        stderr: "null",
      }).spawn(),
      new Deno.Command("prometheus-redis-exporter", {
        args: [
          "-redis.addr",
          cluster.redis.url,
          "-web.listen-address",
          `127.0.0.1:${exporterPort}`,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn(),
    ];
    // A child that exits (bad config, port taken) fails the wait at once.
    const exits = new Map<string, number | undefined>();
    for (const [i, what] of ["haproxy", "redis exporter"].entries()) {
      exits.set(what, undefined);
      children[i]!.status.then((s) => exits.set(what, s.code));
    }
    try {
      const targets = [
        ...cluster.gateways.map((g) => g.internalUrl),
        ...cluster.routers.map((r) => r.url),
        cluster.etcd.url,
        `http://127.0.0.1:${exporterPort}`,
        `http://127.0.0.1:${ports.stats}`,
      ];
      const names = new Set<string>();
      await waitFor(async () => {
        const texts = await Promise.all(targets.map(async (url) => {
          const response = await fetch(`${url}/metrics`).catch(() => null);
          return response?.ok ? await response.text() : null;
        }));
        if (texts.some((t) => t === null)) {
          for (const [what, code] of exits) {
            assert.equal(code, undefined, `${what} exited with ${code}`);
          }
          return false;
        }
        for (const text of texts) for (const n of sampled(text!)) names.add(n);
        // The exporter has reached Redis, haproxy has checked its servers.
        return names.has("redis_memory_used_bytes") &&
          names.has("haproxy_server_status");
      }, { timeout: 20_000, interval: 200, what: "every target to answer" });

      const dashboard = JSON.parse(
        await Deno.readTextFile(`${ROOT}ops/grafana/dashboards/wsgw.json`),
      ) as { panels: { title: string; targets?: { expr: string }[] }[] };
      const missing: string[] = [];
      for (const panel of dashboard.panels) {
        for (const { expr } of panel.targets ?? []) {
          for (const name of queried(expr)) {
            if (!names.has(name)) {
              missing.push(`panel "${panel.title}": ${name}`);
            }
          }
        }
      }
      const rules = await Deno.readTextFile(`${ROOT}ops/prometheus/alerts.yml`);
      for (const expr of alertExprs(rules)) {
        for (const name of queried(expr)) {
          if (!names.has(name)) missing.push(`alert expr: ${name}`);
        }
      }
      assert.deepEqual(missing, [], "queried but without a sample");
    } finally {
      for (const child of children) {
        try {
          child.kill("SIGTERM");
        } catch {
          // exited already; its status says how
        }
        await child.status;
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
);
