/**
 * Gateways and routers run with narrowed Deno permissions (network,
 * environment, reading files: no writing, no subprocesses, no FFI), as the
 * deno.json tasks and the local cluster start them, and still report their
 * memory (from Deno.memoryUsage(): prom-client's /proc reads need -A).
 */
import assert from "node:assert/strict";
import { metric, startTestCluster } from "../_support/cluster.ts";
import { SERVER_PERMISSIONS } from "../../ops/cluster/services.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("permissions - gateways and routers run without -A and still report their memory", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)))
    .tasks as Record<string, string>;
  for (const task of ["gateway", "router", "start"]) {
    assert.equal(
      tasks[task]!.split(" ").slice(2, -1).join(" "),
      SERVER_PERMISSIONS.join(" "),
      `deno task ${task} and the cluster use the same permissions`,
    );
  }
  await using cluster = await startTestCluster({ nodes: 1 });
  for (
    const [name, process] of [
      ["gateway", cluster.gateways[0]!],
      ["router", cluster.routers[0]!],
    ] as const
  ) {
    const args = (await Deno.readTextFile(`/proc/${process.pid}/cmdline`))
      .split("\0");
    assert.ok(!args.includes("-A") && !args.includes("--allow-all"), name);
    for (const flag of SERVER_PERMISSIONS) assert.ok(args.includes(flag), name);
    // A cluster gateway serves /metrics on its internal port only.
    const metrics = "internalUrl" in process
      ? process.internalUrl
      : process.url;
    const rss = await metric(metrics, "process_resident_memory_bytes");
    assert.ok(rss > 10 * 1024 * 1024, `${name} RSS ${rss}`);
    assert.ok(await metric(metrics, "process_heap_bytes") > 0, name);
  }
});
