/**
 * What the Kubernetes schemas cannot check in rendered manifests
 * (tests/integration/ops_k8s.test.ts): references between objects (Secret
 * keys, ConfigMaps, selectors, named ports, scrape jobs), and the gateway's
 * probes, drain, grace period, Services and TLS front.
 *
 * @module
 */
import assert from "node:assert/strict";

/** Rendered YAML, loosely typed: the schema models check it. */
// deno-lint-ignore no-explicit-any
type Loose = any;
export type Obj = {
  apiVersion: string;
  kind: string;
  metadata: Loose;
  spec?: Loose;
  data?: Loose;
};
type Container = Loose;

function podSpecs(objects: Obj[]) {
  return objects.filter((o) =>
    o.kind === "Deployment" || o.kind === "StatefulSet" || o.kind === "Job"
  )
    .map((o) => ({
      name: o.metadata.name as string,
      template: o.spec.template,
    }));
}

function matches(
  selector: Record<string, string>,
  labels: Record<string, string>,
) {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Cross-object checks the schemas cannot make. */
export function checkReferences(overlay: string, objects: Obj[]): void {
  const secrets = objects.filter((o) => o.kind === "Secret");
  const configMaps = new Set(
    objects.filter((o) => o.kind === "ConfigMap").map((o) => o.metadata.name),
  );
  const pods = podSpecs(objects);
  for (const { name, template } of pods) {
    for (const container of template.spec.containers as Container[]) {
      for (const from of container.envFrom ?? []) {
        assert.ok(configMaps.has(from.configMapRef?.name), `${name}: envFrom`);
      }
      for (const env of container.env ?? []) {
        const ref = env.valueFrom?.secretKeyRef;
        if (!ref || ref.optional) continue;
        const secret = secrets.find((s) => s.metadata.name === ref.name);
        assert.ok(secret, `${overlay}/${name}: no Secret ${ref.name}`);
        assert.ok(
          Object.hasOwn(secret.data ?? {}, ref.key),
          `${overlay}/${name}: Secret ${ref.name} has no key ${ref.key}`,
        );
      }
    }
  }
  for (const service of objects.filter((o) => o.kind === "Service")) {
    if (service.spec.type === "ExternalName") continue;
    const targets = pods.filter((p) =>
      matches(service.spec.selector, p.template.metadata.labels)
    );
    assert.ok(
      targets.length > 0,
      `${overlay}: Service ${service.metadata.name} selects no pods`,
    );
    for (const port of service.spec.ports) {
      if (typeof port.targetPort !== "string") continue;
      const named = targets.every((p) =>
        (p.template.spec.containers as Container[]).some((c) =>
          (c.ports ?? []).some((cp: { name: string }) =>
            cp.name === port.targetPort
          )
        )
      );
      assert.ok(
        named,
        `${service.metadata.name}: no container port ${port.targetPort}`,
      );
    }
  }
  for (const pdb of objects.filter((o) => o.kind === "PodDisruptionBudget")) {
    assert.ok(
      pods.some((p) =>
        matches(pdb.spec.selector.matchLabels, p.template.metadata.labels)
      ),
      `PodDisruptionBudget ${pdb.metadata.name} selects no pods`,
    );
  }
  // Every pod with a job label is scraped on one of its ports, under the
  // job name the alert rules use.
  const monitor = objects.find((o) => o.kind === "PodMonitor")!;
  const endpoints = monitor.spec.podMetricsEndpoints.map((
    e: { port: string },
  ) => e.port);
  for (const { name, template } of pods) {
    const job = template.metadata.labels?.["wsgw.io/job"];
    if (job === undefined) continue;
    assert.ok(
      monitor.spec.selector.matchExpressions[0].values.includes(job),
      `${overlay}: the PodMonitor does not select job ${job}`,
    );
    const ports = (template.spec.containers as Container[]).flatMap((c) =>
      (c.ports ?? []).map((p: { name: string }) => p.name)
    );
    assert.ok(
      ports.some((p) => endpoints.includes(p)),
      `${overlay}: no PodMonitor endpoint on a port of ${name}`,
    );
  }
  if (overlay === "try-it") {
    const jobs = pods.map((p) => p.template.metadata.labels?.["wsgw.io/job"]);
    assert.ok(jobs.includes("etcd") && jobs.includes("redis"), String(jobs));
  }
  for (const wsgwService of ["wsgw-etcd", "wsgw-redis"]) {
    assert.ok(
      objects.some((o) =>
        o.kind === "Service" && o.metadata.name === wsgwService
      ),
      `${overlay}: no Service ${wsgwService} for the backends`,
    );
  }
}

/** The Secret keys a container's environment takes, by variable name. */
function secretEnv(container: Container): Record<string, string> {
  return Object.fromEntries(
    (container.env ?? []).filter((e: Loose) => e.valueFrom?.secretKeyRef)
      .map((e: Loose) => [e.name, e.valueFrom.secretKeyRef.key]),
  );
}

function container(objects: Obj[], kind: string, name: string): Container {
  const object = objects.find((o) =>
    o.kind === kind && o.metadata.name === name
  );
  assert.ok(object, `no ${kind} ${name}`);
  return object.spec.template.spec.containers[0];
}

/**
 * Each role takes only its own secrets from the Secret (a gateway nothing
 * that can push, a router nothing that signs a client token), both log in
 * to etcd and Redis; in try-it, etcd auth is turned on and Redis requires
 * the password the nodes use.
 */
export function checkSecretsPerRole(overlay: string, objects: Obj[]): void {
  const both = [
    "WSGW_ETCD_PASSWORD",
    "WSGW_INTERNAL_OTHER_SECRET",
    "WSGW_INTERNAL_SECRET",
    "WSGW_REDIS_PASSWORD",
  ];
  const roles = [
    ["wsgw-gateway", [...both, "WSGW_JWT_PREVIOUS_SECRET", "WSGW_JWT_SECRET"]],
    ["wsgw-router", [...both, "WSGW_API_KEYS"]],
  ] as const;
  for (const [name, expected] of roles) {
    const env = secretEnv(container(objects, "Deployment", name));
    assert.deepEqual(Object.keys(env).sort(), expected.toSorted(), name);
    for (const [variable, key] of Object.entries(env)) {
      assert.equal(key, variable, `${name}: ${variable} from key ${key}`);
    }
  }
  const config = objects.find((o) =>
    o.kind === "ConfigMap" && o.metadata.name === "wsgw-config"
  )!;
  assert.equal(config.data.WSGW_ETCD_USERNAME, "wsgw");
  assert.ok(
    !Object.keys(config.data).some((k) => /SECRET|PASSWORD|API_KEYS/.test(k)),
    "a secret in the ConfigMap",
  );
  if (overlay !== "try-it") return;
  const auth = container(objects, "Job", "wsgw-etcd-auth");
  assert.deepEqual(secretEnv(auth), {
    WSGW_ETCD_ROOT_PASSWORD: "WSGW_ETCD_ROOT_PASSWORD",
    WSGW_ETCD_PASSWORD: "WSGW_ETCD_PASSWORD",
  });
  assert.match(auth.command.join(" "), /etcdctl auth enable/);
  const redis = objects.find((o) =>
    o.kind === "StatefulSet" && o.metadata.name === "wsgw-redis"
  )!.spec.template.spec.containers as Container[];
  const server = redis.find((c) => c.name === "redis")!;
  const exporter = redis.find((c) => c.name === "exporter")!;
  assert.deepEqual(secretEnv(server), { REDISCLI_AUTH: "WSGW_REDIS_PASSWORD" });
  assert.match(server.command.at(-1), /requirepass "\$REDISCLI_AUTH"/);
  assert.match(server.readinessProbe.exec.command.join(" "), /grep -q PONG/);
  assert.deepEqual(secretEnv(exporter), {
    REDIS_PASSWORD: "WSGW_REDIS_PASSWORD",
  });
}

/** The gateway: probes, drain, grace period, Services, budget. */
export function checkGateway(objects: Obj[]): void {
  const gateway = objects.find((o) =>
    o.kind === "Deployment" && o.metadata.name === "wsgw-gateway"
  )!;
  assert.ok(gateway, "no gateway Deployment");
  const pod = gateway.spec.template.spec;
  const container = pod.containers[0];
  assert.equal(container.readinessProbe.httpGet.path, "/readyz");
  assert.equal(container.livenessProbe.httpGet.path, "/healthz");
  const preStop = container.lifecycle.preStop.exec.command.join(" ");
  assert.match(preStop, /127\.0\.0\.1:9000\/internal[^]*\/drain/);
  // The hook polls at most N × 100 ms; SIGTERM must still come within the grace.
  const polls = Number(/i < (\d+)/.exec(preStop)?.[1]);
  assert.ok(
    pod.terminationGracePeriodSeconds >= 60 &&
      polls * 0.1 < pod.terminationGracePeriodSeconds,
    `grace ${pod.terminationGracePeriodSeconds} s, preStop up to ${
      polls * 0.1
    } s`,
  );
  assert.equal(pod.securityContext.runAsNonRoot, true);
  const env = Object.fromEntries(
    container.env.map((
      e: { name: string; value?: string },
    ) => [e.name, e.value]),
  );
  assert.equal(env.WSGW_NODE_ID, "$(POD_NAME)");
  assert.match(env.WSGW_INTERNAL_URL, /^http:\/\/\$\(POD_IP\):9000$/);
  const services = objects.filter((o) => o.kind === "Service");
  const clients = services.find((s) => s.metadata.name === "wsgw-gateway");
  assert.equal(clients?.spec.ports[0].targetPort, "public");
  // Clients reach the gateways through an L4 balancer: the gateways' own, or
  // the TLS-terminating haproxy's (components/tls) in front of it.
  const tls = services.find((s) => s.metadata.name === "wsgw-tls");
  const exposed = tls ?? clients;
  assert.equal(exposed?.spec.type, "LoadBalancer");
  if (tls) {
    const haproxy = objects.find((o) =>
      o.kind === "Deployment" && o.metadata.name === "wsgw-tls"
    )!;
    const config = objects.find((o) =>
      o.kind === "ConfigMap" && o.metadata.name.startsWith("wsgw-tls-haproxy")
    )!.data["haproxy.cfg"] as string;
    const mount = haproxy.spec.template.spec.containers[0].volumeMounts
      .find((m: { name: string }) => m.name === "tls").mountPath;
    const paths = haproxy.spec.template.spec.volumes
      .find((v: { name: string }) => v.name === "tls").secret.items
      .map((i: { path: string }) => `${mount}/${i.path}`);
    const crt = /bind :8443 ssl crt (\S+)/.exec(config)?.[1];
    assert.ok(
      crt && paths.includes(crt),
      `haproxy reads ${crt}, mounted ${paths}`,
    );
    assert.ok(paths.includes(`${crt}.key`), "the key beside the certificate");
    assert.match(config, /server \S+ wsgw-gateway:80/);
    assert.equal(clients?.spec.type, "ClusterIP");
    // The haproxy alerts see it: the PodMonitor scrapes it as job haproxy.
    const monitor = objects.find((o) => o.kind === "PodMonitor")!;
    assert.ok(
      monitor.spec.selector.matchExpressions[0].values.includes("haproxy"),
    );
    assert.equal(
      haproxy.spec.template.metadata.labels["wsgw.io/job"],
      "haproxy",
    );
    assert.ok(
      monitor.spec.podMetricsEndpoints.some((e: { port: string }) =>
        e.port === "health"
      ),
    );
  }
  const headless = services.find((s) =>
    s.metadata.name === "wsgw-gateway-internal"
  );
  assert.equal(headless?.spec.clusterIP, "None");
  assert.equal(headless?.spec.ports[0].targetPort, "internal");
  assert.ok(
    objects.some((o) =>
      o.kind === "PodDisruptionBudget" && o.metadata.name === "wsgw-gateway"
    ),
  );
  const monitor = objects.find((o) => o.kind === "PodMonitor")!;
  const ports = monitor.spec.podMetricsEndpoints.map((e: { port: string }) =>
    e.port
  );
  assert.ok(ports.includes("internal") && !ports.includes("public"));
}
