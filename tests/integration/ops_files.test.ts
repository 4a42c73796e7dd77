/**
 * The deployment files are valid for the tools that read them: Prometheus
 * config and alert rules (promtool, with the rules' unit tests), haproxy,
 * compose, and the Grafana dashboard and provisioning. Each check is skipped,
 * saying so, when its tool is not installed (`bash ops/test.sh` installs them).
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { makeThrowawayCert } from "../../ops/cluster/tls_cert.ts";
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
  "ops - docker-compose config accepts compose.yaml with the example env file",
  [
    "docker-compose",
  ],
  async () => {
    const args = [
      "--env-file",
      "ops/compose.env.example",
      "-f",
      "compose.yaml",
    ];
    assertRan(
      await run("docker-compose", [...args, "config", "-q"]),
      "docker-compose config -q",
    );
    const { stdout } = await run("docker-compose", [...args, "config"]);
    const config = parseYaml(stdout) as {
      services: Record<string, {
        environment?: Record<string, string | null>;
        env_file?: unknown;
        healthcheck?: { test: string[] };
        ulimits?: { nofile?: { soft: number; hard: number } };
        command?: string[];
      }>;
    };
    const services = config.services;
    const wsgw = ["gateway1", "gateway2", "gateway3", "router1", "router2"];
    for (
      const service of [
        "etcd",
        "redis",
        "redis-exporter",
        ...wsgw,
        "haproxy",
        "prometheus",
        "grafana",
      ]
    ) {
      assert.ok(services[service], `no service ${service}`);
      assert.ok(
        services[service].healthcheck?.test?.length,
        `${service} has no healthcheck`,
      );
      assert.equal(
        services[service].env_file,
        undefined,
        `${service} env_file`,
      );
    }
    for (const i of [1, 2, 3]) {
      const env = services[`gateway${i}`]!.environment!;
      assert.equal(env.WSGW_NODE_ID, `gateway${i}`);
      assert.match(env.WSGW_INTERNAL_URL!, new RegExp(`^http://gateway${i}:`));
      assert.match(env.WSGW_PUBLIC_URL!, new RegExp(`^http://gateway${i}:`));
    }
    // Secrets reach only the services that use them.
    const secretNames = /SECRET|API_KEYS|PASSWORD/;
    for (const [name, service] of Object.entries(services)) {
      const secrets = Object.keys(service.environment ?? {}).filter((v) =>
        secretNames.test(v)
      ).sort();
      const expected = wsgw.includes(name)
        ? [
          "WSGW_API_KEYS",
          "WSGW_INTERNAL_OTHER_SECRET",
          "WSGW_INTERNAL_SECRET",
          "WSGW_JWT_PREVIOUS_SECRET",
          "WSGW_JWT_SECRET",
        ]
        : name === "grafana"
        ? ["GF_SECURITY_ADMIN_PASSWORD"]
        : [];
      assert.deepEqual(secrets, expected, `secrets given to ${name}`);
    }
    assert.match(
      services.router1!.environment!.WSGW_JWT_SECRET!,
      /^change-me-jwt-secret/,
      "the secrets come from the env file",
    );
    for (const name of [...wsgw.slice(0, 3), "haproxy"]) {
      const nofile = services[name]!.ulimits?.nofile;
      assert.ok(nofile && nofile.soft >= 1_000_000, `${name} nofile`);
    }
    const redis = services.redis!.command!.join(" ");
    assert.match(redis, /--appendonly yes/);
    assert.match(redis, /--maxmemory \d+[kmg]b/);
    assert.match(redis, /--maxmemory-policy noeviction/);
    const compose = await Deno.readTextFile(`${ROOT}compose.yaml`);
    assert.doesNotMatch(
      compose,
      /WSGW_(JWT_SECRET|API_KEYS|INTERNAL_SECRET): [^$]/,
      "a secret value written into compose.yaml",
    );

    // A missing secret stops compose with a message saying how to make one.
    const empty = await Deno.makeTempFile();
    try {
      const missing = await run("docker-compose", [
        "--env-file",
        empty,
        "-f",
        "compose.yaml",
        "config",
        "-q",
      ]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /deno task ctl secrets/);
    } finally {
      await Deno.remove(empty);
    }
  },
);

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

opsTest(
  "ops - compose.tls.yaml: haproxy takes the TLS frontend with a mounted certificate",
  ["docker-compose", "haproxy", "openssl"],
  async () => {
    const args = [
      "--env-file",
      "ops/compose.env.example",
      "-f",
      "compose.yaml",
      "-f",
      "compose.tls.yaml",
    ];
    const { code, stdout, stderr } = await run("docker-compose", [
      ...args,
      "config",
    ]);
    assert.equal(code, 0, stderr);
    const haproxy = (parseYaml(stdout) as {
      services: Record<string, { command: string[]; ports: unknown[] }>;
    }).services.haproxy!;
    assert.deepEqual(haproxy.command.filter((a) => a.endsWith(".cfg")), [
      "/usr/local/etc/haproxy/haproxy.cfg",
      "/usr/local/etc/haproxy/tls.cfg",
    ]);
    assert.match(JSON.stringify(haproxy.ports), /8443/);
    assert.match(JSON.stringify(haproxy.ports), /8080/);

    // Both files together, with a real certificate where compose mounts one.
    const dir = await Deno.makeTempDir();
    try {
      const { pem } = await makeThrowawayCert(dir);
      const tls = (await Deno.readTextFile(`${ROOT}ops/haproxy/tls.cfg`))
        .replace("/usr/local/etc/haproxy/tls/wsgw.pem", pem);
      await Deno.writeTextFile(`${dir}/tls.cfg`, tls);
      assertRan(
        await run("haproxy", ["-c", "-f", HAPROXY, "-f", `${dir}/tls.cfg`]),
        "haproxy -c with tls.cfg",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
