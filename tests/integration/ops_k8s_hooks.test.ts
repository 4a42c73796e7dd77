/**
 * deploy/k8s at run time, as far as it runs outside Kubernetes: the TLS
 * component's haproxy config passes `haproxy -c` with a real certificate, and
 * the gateway's preStop hook, run as the manifest writes it, drains a real
 * node before Kubernetes would send SIGTERM.
 */
import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import { makeThrowawayCert } from "../../ops/cluster/tls_cert.ts";
import { connect, startTestCluster } from "../_support/cluster.ts";
import { opsTest, ROOT, run } from "../_support/ops_tools.ts";
import { waitFor } from "../_support/until.ts";

// deno-lint-ignore no-explicit-any
type Obj = { kind: string; data?: any; spec?: any };

opsTest("ops - k8s TLS haproxy config passes haproxy -c", [
  "haproxy",
  "openssl",
], async () => {
  const manifest = await Deno.readTextFile(
    `${ROOT}deploy/k8s/components/tls/haproxy.yaml`,
  );
  const configMap = parseAllDocuments(manifest).map((d) => d.toJSON() as Obj)
    .find((o) => o.kind === "ConfigMap")!;
  const dir = await Deno.makeTempDir();
  try {
    const { pem } = await makeThrowawayCert(dir);
    const config = (configMap.data["haproxy.cfg"] as string)
      .replace("/usr/local/etc/haproxy/tls/wsgw.pem", pem)
      // The Service name resolves inside the cluster only.
      .replace("wsgw-gateway:80", "127.0.0.1:80");
    await Deno.writeTextFile(`${dir}/haproxy.cfg`, config);
    const ran = await run("haproxy", ["-c", "-f", `${dir}/haproxy.cfg`]);
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

opsTest("ops - k8s gateway preStop hook drains a real node before SIGTERM", [
  "etcd",
  "redis-server",
], async () => {
  const manifest = await Deno.readTextFile(
    `${ROOT}deploy/k8s/base/gateway-deployment.yaml`,
  );
  const deployment = parse(manifest) as Obj;
  const [command, ...args] = deployment.spec.template.spec.containers[0]
    .lifecycle.preStop.exec.command as string[];
  assert.equal(command, "deno");
  await using cluster = await startTestCluster({ nodes: 2, routers: 1 });
  const { client } = await connect(cluster, 0, "kim");
  const internal = new URL(cluster.gateways[0]!.internalUrl).host;
  // The pod's internal port is 9000; the test node's is a free one.
  const script = args.at(-1)!.replace("127.0.0.1:9000", internal);
  const hook = await new Deno.Command(Deno.execPath(), {
    args: [...args.slice(0, -1), script],
    env: { WSGW_INTERNAL_SECRET: cluster.internalSecret, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(hook.code, 0, new TextDecoder().decode(hook.stderr));
  // When the hook returns, the node has closed its clients with 1012.
  await waitFor(() => client.isClosed !== undefined, {
    timeout: 5000,
    what: "the client to be closed",
  });
  assert.equal(client.isClosed?.code, 1012);
  const stats = await fetch(
    `${cluster.gateways[0]!.internalUrl}/internal/stats`,
    {
      headers: { authorization: `Bearer ${cluster.internalSecret}` },
    },
  );
  const body = await stats.json();
  assert.equal(body.connections, 0);
  assert.equal(body.draining, true);
});
