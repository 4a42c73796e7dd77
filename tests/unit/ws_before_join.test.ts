import assert from "node:assert/strict";
import { GatewayNode } from "../../gateway/gateway_node.ts";
import { createPublicHandler } from "../../gateway/ws_handler.ts";
import { loadConfig } from "../../shared/config.ts";
import { MemoryHistory } from "../../shared/history/mod.ts";
import { silentLogger } from "../../shared/log.ts";
import { createMetricsRegistry } from "../../shared/metrics.ts";
import {
  MemoryRegistry,
  MemoryRegistryStore,
} from "../../shared/registry/mod.ts";
import { signToken } from "../../shared/token.ts";

const SECRET = "a-test-secret-that-is-long-enough-0123456789";

function node(): GatewayNode {
  const { config } = loadConfig({
    WSGW_API_KEYS: "k",
    WSGW_JWT_SECRET: SECRET,
    WSGW_CONNECT_RATE: "0",
  }, "embedded");
  return new GatewayNode({
    config,
    registry: new MemoryRegistry(new MemoryRegistryStore()),
    history: new MemoryHistory({ size: 10, ttl: 60 }),
    log: silentLogger,
    metricsRegistry: createMetricsRegistry(),
  });
}

/** `/ws` as a browser client's failure probe asks it: a plain GET with the token. */
async function probe(gateway: GatewayNode): Promise<Response> {
  const handler = createPublicHandler(gateway, {
    fetch: () => new Response("not here", { status: 404 }),
  });
  const token = await signToken(SECRET, { sub: "alice" });
  return await handler(
    new Request(`http://127.0.0.1/ws?token=${token}`),
    {
      remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    } as Deno.ServeHandlerInfo<Deno.NetAddr>,
  );
}

Deno.test("ws - a node that has not joined the registry yet refuses clients with 503", async () => {
  const gateway = node();
  const response = await probe(gateway);
  assert.equal(response.status, 503);
  assert.equal((await response.json()).error.code, "unavailable");
});

Deno.test("ws - once joined, the same probe reaches the upgrade check", async () => {
  const gateway = node();
  await gateway.start({ url: "http://n", internalUrl: "http://n-internal" });
  try {
    const response = await probe(gateway);
    assert.equal(response.status, 426);
    await response.body?.cancel();
  } finally {
    await gateway.stop();
  }
});
