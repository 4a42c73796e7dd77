import { createInternalApp } from "../../gateway/internal_app.ts";
import { HttpNodeClient } from "../../router/node_client.ts";
import { silentLogger } from "../../shared/log.ts";
import type { NodeRecord } from "../../shared/registry/mod.ts";
import type { TestGateway } from "../_support/embedded.ts";
import { nodeApiContract } from "../_support/node_api_contract.ts";

const SECRET = "contract-internal-secret";

/** The gateway's node behind the real internal app on its own port. */
async function serveInternal(gateway: TestGateway) {
  const app = createInternalApp(gateway.node, {
    secrets: [SECRET],
    log: silentLogger,
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    app.fetch,
  );
  const record: NodeRecord = {
    nodeId: (await gateway.node.stats()).nodeId,
    url: gateway.url,
    internalUrl: `http://127.0.0.1:${server.addr.port}`,
    startedAt: 1,
    draining: false,
  };
  return {
    record,
    close: async () => {
      await server.shutdown();
    },
  };
}

nodeApiContract("HTTP", async (gateway) => {
  const internal = await serveInternal(gateway);
  const client = new HttpNodeClient({ secret: SECRET });
  return {
    api: client.for(internal.record),
    [Symbol.asyncDispose]: internal.close,
  };
});
