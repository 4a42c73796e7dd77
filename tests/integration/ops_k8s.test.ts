/**
 * deploy/k8s renders and validates offline: every overlay, with a secrets.env
 * as `ctl secrets` writes it, through `kubectl kustomize`; every rendered
 * object against the Kubernetes API schemas of npm `kubernetes-models` (and
 * the Prometheus Operator's); then what the schemas cannot see: references
 * between objects (Secret keys, ConfigMaps, selectors, named ports), the
 * gateway's probes, drain and grace period, and alert rules identical to
 * ops/prometheus/alerts.yml.
 */
import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { secretsEnvFile } from "../../ops/ctl/secrets_command.ts";
import {
  checkGateway,
  checkReferences,
  checkSecretsPerRole,
  type Obj,
} from "../_support/k8s_checks.ts";
import { opsTest, ROOT, run } from "../_support/ops_tools.ts";

type Model = { validate(): void };
// deno-lint-ignore no-explicit-any
type Ctor = new (data: any) => Model;

/** apiVersion/kind → its schema-checked model; a kind missing here fails. */
const MODELS: Record<string, Ctor> = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "batch/v1/Job": Job,
  "v1/ConfigMap": ConfigMap,
  "v1/Namespace": Namespace,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "monitoring.coreos.com/v1/PodMonitor": PodMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
};

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) {
      await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    } else if (entry.name !== "secrets.env") {
      await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
    }
  }
}

/** Renders one overlay from a copy of deploy/k8s with a fresh secrets.env. */
async function render(overlay: string): Promise<Obj[]> {
  const dir = await Deno.makeTempDir({ prefix: "wsgw-k8s-" });
  try {
    await copyDir(`${ROOT}deploy/k8s`, dir);
    await Deno.writeTextFile(
      `${dir}/overlays/${overlay}/secrets.env`,
      secretsEnvFile(),
    );
    const ran = await run("kubectl", [
      "kustomize",
      `${dir}/overlays/${overlay}`,
    ]);
    assert.equal(ran.code, 0, `kubectl kustomize ${overlay}:\n${ran.stderr}`);
    const objects = parseAllDocuments(ran.stdout).map((d) => d.toJSON() as Obj)
      .filter((o) => o !== null);
    // kustomize folds long base64 values over lines; the API server's
    // decoder skips the newlines, the schema's "byte" format does not.
    for (const secret of objects.filter((o) => o.kind === "Secret")) {
      for (const [key, value] of Object.entries(secret.data ?? {})) {
        secret.data[key] = String(value).replace(/\s+/g, "");
      }
    }
    return objects;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const overlays: string[] = [];
for (const entry of Deno.readDirSync(`${ROOT}deploy/k8s/overlays`)) {
  if (entry.isDirectory) overlays.push(entry.name);
}
overlays.sort();

for (const overlay of overlays) {
  opsTest(`ops - k8s overlay ${overlay} renders and validates`, [
    "kubectl",
  ], async () => {
    const objects = await render(overlay);
    assert.ok(objects.length >= 10, `only ${objects.length} objects`);
    for (const object of objects) {
      const key = `${object.apiVersion}/${object.kind}`;
      const Model = MODELS[key];
      assert.ok(Model, `no schema model for ${key}: add it to MODELS`);
      try {
        new Model(object).validate();
      } catch (error) {
        assert.fail(`${key} ${object.metadata?.name}: ${error}`);
      }
    }
    checkReferences(overlay, objects);
    checkGateway(objects);
    checkSecretsPerRole(overlay, objects);

    const rule = objects.find((o) => o.kind === "PrometheusRule")!;
    const alerts = parse(
      await Deno.readTextFile(`${ROOT}ops/prometheus/alerts.yml`),
    ) as { groups: unknown };
    assert.deepEqual(
      rule.spec.groups,
      alerts.groups,
      "PrometheusRule differs from alerts.yml: run `deno task k8s:rules`",
    );
    const statefulSets = objects.filter((o) => o.kind === "StatefulSet");
    if (overlay === "production") assert.equal(statefulSets.length, 0);
  });
}

opsTest("ops - k8s etcd-auth Job runs the script of compose's etcd-auth", [
  "docker-compose",
], async () => {
  const ran = await run("docker-compose", [
    "--env-file",
    "ops/compose.env.example",
    "-f",
    "compose.yaml",
    "config",
  ]);
  assert.equal(ran.code, 0, ran.stderr);
  const compose = parse(ran.stdout) as {
    services: Record<string, { command: string[] }>;
  };
  // `docker-compose config` prints a literal "$" as "$$".
  const script = compose.services["etcd-auth"]!.command.at(-1)!
    .replaceAll("$$", "$");
  const job = parse(
    await Deno.readTextFile(
      `${ROOT}deploy/k8s/backends/statefulset/etcd-auth-job.yaml`,
    ),
  ) as Obj;
  const command = job.spec.template.spec.containers[0].command as string[];
  assert.deepEqual(command.slice(0, 2), ["/bin/sh", "-euc"]);
  assert.equal(command[2], script);
});
