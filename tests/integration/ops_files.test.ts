/**
 * The deployment files are valid for the tools that read them: Prometheus
 * config and alert rules (promtool, with the rules' unit tests), haproxy,
 * compose, and the Grafana dashboard and provisioning. Each check is skipped,
 * saying so, when its tool is not installed (`bash ops/test.sh` installs them).
 */
import assert from "node:assert/strict";
import { opsTest, ROOT, run } from "../_support/ops_tools.ts";

const PROMETHEUS = "ops/prometheus/prometheus.yml";
const ALERTS = "ops/prometheus/alerts.yml";
const ALERTS_TEST = "ops/prometheus/alerts_test.yml";
const HAPROXY = "ops/haproxy/haproxy.cfg";
const DASHBOARD = "ops/grafana/dashboards/wsgw.json";

function assertRan(
  ran: { code: number; stdout: string; stderr: string },
  what: string,
) {
  assert.equal(
    ran.code,
    0,
    `${what} failed (exit ${ran.code}):\n${ran.stdout}\n${ran.stderr}`,
  );
}

opsTest(
  "ops - promtool check config accepts prometheus.yml and its rule files",
  [
    "promtool",
  ],
  async () => {
    assertRan(
      await run("promtool", ["check", "config", PROMETHEUS]),
      "promtool check config",
    );
  },
);

opsTest("ops - promtool check rules accepts alerts.yml", [
  "promtool",
], async () => {
  assertRan(
    await run("promtool", ["check", "rules", ALERTS]),
    "promtool check rules",
  );
});

opsTest("ops - alert rules fire as their unit tests expect", [
  "promtool",
], async () => {
  assertRan(
    await run("promtool", ["test", "rules", ALERTS_TEST]),
    "promtool test rules",
  );
});

opsTest(
  "ops - every alert has a severity, a summary and a runbook entry",
  [],
  async () => {
    const rules = await Deno.readTextFile(`${ROOT}${ALERTS}`);
    const runbook = await Deno.readTextFile(`${ROOT}docs/OPERATIONS.md`);
    const alerts = [...rules.matchAll(/^\s*- alert: (\S+)$/gm)].map((m) =>
      m[1]!
    );
    assert.ok(alerts.length >= 10, `only ${alerts.length} alerts`);
    assert.equal(new Set(alerts).size, alerts.length, "duplicate alert names");
    const blocks = rules.split(/^\s*- alert: /m).slice(1);
    for (const [i, block] of blocks.entries()) {
      assert.match(
        block,
        /severity: (critical|warning)/,
        `${alerts[i]} severity`,
      );
      assert.match(block, /summary: /, `${alerts[i]} summary`);
      assert.ok(
        runbook.includes(`\`${alerts[i]}\``),
        `docs/OPERATIONS.md does not explain ${alerts[i]}`,
      );
    }
  },
);

opsTest("ops - haproxy -c accepts haproxy.cfg without the compose hostnames", [
  "haproxy",
], async () => {
  assertRan(await run("haproxy", ["-c", "-f", HAPROXY]), "haproxy -c");
  const config = await Deno.readTextFile(`${ROOT}${HAPROXY}`);
  const gateways = config.slice(
    config.indexOf("backend gateways"),
    config.indexOf("frontend push_api"),
  );
  assert.match(gateways, /mode tcp/);
  assert.match(gateways, /balance leastconn/);
  assert.match(gateways, /option httpchk GET \/readyz/);
  for (const node of ["gateway1", "gateway2", "gateway3"]) {
    assert.match(gateways, new RegExp(`server ${node} ${node}:8080`));
  }
});

opsTest(
  "ops - the image pins Deno 2.9, runs as a non-root user, has a HEALTHCHECK",
  [],
  async () => {
    const dockerfile = await Deno.readTextFile(`${ROOT}Dockerfile`);
    assert.match(dockerfile, /^ARG DENO_VERSION=2\.9\.\d+$/m);
    assert.match(
      dockerfile,
      /^FROM denoland\/deno:[a-z-]*\$\{DENO_VERSION\}$/m,
    );
    assert.match(dockerfile, /^USER 1993:1993$/m);
    assert.match(dockerfile, /^HEALTHCHECK [^]*?CMD .*\/healthz/m);
    assert.match(dockerfile, /deno install --frozen/);
    // An allow-list: nothing enters the build context unless named.
    const ignored = await Deno.readTextFile(`${ROOT}.dockerignore`);
    assert.match(ignored, /^\*\*$/m);
  },
);

opsTest(
  "ops - the Grafana dashboard parses and is provisioned",
  [],
  async () => {
    const dashboard = JSON.parse(
      await Deno.readTextFile(`${ROOT}${DASHBOARD}`),
    );
    assert.equal(dashboard.uid, "wsgw-overview");
    type Panel = {
      id: number;
      type: string;
      title: string;
      datasource?: { uid: string };
      targets?: { expr: string; refId: string }[];
    };
    const panels = dashboard.panels as Panel[];
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, "duplicate panel ids");
    const queries = panels.filter((p) => p.type !== "row");
    assert.ok(queries.length >= 20, `only ${queries.length} panels`);
    for (const panel of queries) {
      assert.equal(panel.datasource?.uid, "prometheus", panel.title);
      assert.ok(panel.targets && panel.targets.length > 0, panel.title);
      for (const target of panel.targets) {
        assert.ok(target.expr.trim() !== "", `${panel.title}: empty query`);
      }
    }
    const datasource = await Deno.readTextFile(
      `${ROOT}ops/grafana/provisioning/datasources/prometheus.yml`,
    );
    assert.match(datasource, /uid: prometheus$/m);
    assert.match(datasource, /url: http:\/\/prometheus:9090$/m);
    const provider = await Deno.readTextFile(
      `${ROOT}ops/grafana/provisioning/dashboards/wsgw.yml`,
    );
    const path = /path: (\S+)$/m.exec(provider)?.[1];
    const compose = await Deno.readTextFile(`${ROOT}compose.yaml`);
    assert.ok(
      compose.includes(`./ops/grafana/dashboards:${path}:ro`),
      `compose.yaml does not mount the dashboards at ${path}`,
    );
  },
);

opsTest(
  "ops - Prometheus scrapes the gateways on their internal ports",
  [],
  async () => {
    const prometheus = await Deno.readTextFile(`${ROOT}${PROMETHEUS}`);
    const compose = await Deno.readTextFile(`${ROOT}compose.yaml`);
    const job = prometheus.slice(
      prometheus.indexOf("job_name: wsgw-gateway"),
      prometheus.indexOf("job_name: wsgw-router"),
    );
    for (const i of [1, 2, 3]) {
      const port = new RegExp(
        `WSGW_NODE_ID: gateway${i}\\n\\s+WSGW_PUBLIC_URL: \\S+\\n\\s+WSGW_INTERNAL_PORT: "(\\d+)"`,
      ).exec(compose)?.[1];
      assert.ok(port, `compose.yaml: no WSGW_INTERNAL_PORT for gateway${i}`);
      assert.ok(
        job.includes(`"gateway${i}:${port}"`),
        `prometheus.yml does not scrape gateway${i}:${port}`,
      );
    }
  },
);
