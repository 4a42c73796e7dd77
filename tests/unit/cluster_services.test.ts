import assert from "node:assert/strict";
import { haproxySpec } from "../../ops/cluster/services.ts";

Deno.test("cluster services - haproxy is not ready while another process answers on its port", async () => {
  // A gateway that took the port haproxy was given answers the HTTP check,
  // while haproxy itself exits with "Address already in use": the launcher
  // must see that start fail (and pick another port), not a ready balancer.
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => Response.json({ status: "ok" }),
  );
  try {
    const dir = await Deno.makeTempDir();
    try {
      const spec = haproxySpec(
        `${dir}/haproxy.cfg`,
        server.addr.port,
        `${dir}/haproxy.sock`,
      );
      assert.equal(await spec.ready(), false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  } finally {
    await server.shutdown();
  }
});
