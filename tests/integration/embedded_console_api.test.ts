/**
 * What a real gateway node tells the operator console, in the embedded
 * process: its release, its lease (none in memory) and running counters in
 * `GET /v1/nodes`, the remote address of each connection in presence, the
 * registry keys of a user, and a drain through the admin endpoint.
 */
import assert from "node:assert/strict";
import { VERSION } from "../../shared/version.ts";
import { startTestGateway } from "../_support/embedded.ts";
import { waitFor } from "../_support/until.ts";
import { TestClient } from "../_support/ws_client.ts";

Deno.test("embedded console API - node version, lease, counters; remote address; keys; drain", async () => {
  await using gw = await startTestGateway();
  const before = (await gw.api("GET", "/v1/nodes")).body[0];
  assert.equal(before.version, VERSION);
  assert.deepEqual(before.lease, { id: null, healthy: true });
  assert.deepEqual(before.counters, { connects: 0, closes: 0, deliveries: 0 });

  const { client } = await TestClient.welcomed(
    await gw.wsUrl("alice", { device: "phone" }),
  );
  const pushed = await gw.api("POST", "/v1/push", {
    users: ["alice"],
    data: "hi",
  });
  assert.equal(pushed.body.results[0].devices, 1);
  await client.waitMessages(1);
  const presence = (await gw.api("GET", "/v1/users/alice/presence")).body;
  assert.equal(presence.devices[0].remoteAddress, "127.0.0.1");
  const keys = (await gw.api("GET", "/v1/admin/users/alice")).body;
  assert.deepEqual(keys.keys.map((k: { key: string }) => k.key), [
    `/wsgw/users/alice/${gw.node.nodeId}`,
  ]);
  assert.equal(keys.keys[0].devices[0].connId, presence.devices[0].connId);

  await client.close();
  const after = await waitFor(async () => {
    const node = (await gw.api("GET", "/v1/nodes")).body[0];
    return node.counters.closes === 1 ? node : undefined;
  }, { what: "the close counted" });
  assert.deepEqual(after.counters, { connects: 1, closes: 1, deliveries: 1 });

  const { client: other } = await TestClient.welcomed(await gw.wsUrl("bob"));
  const drain = await gw.api(
    "POST",
    `/v1/admin/nodes/${gw.node.nodeId}/drain`,
    { batch: 1, intervalMs: 0 },
  );
  assert.equal(drain.status, 202);
  assert.equal((await other.closed).code, 1012);
  await waitFor(() => !gw.node.joined, { what: "the node left" });
});
