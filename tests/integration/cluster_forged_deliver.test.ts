/**
 * A holder of the internal secret (an attacker on the internal network)
 * cannot forge frame fields through `dataJson`: deliveries and broadcasts
 * whose `dataJson` is not exactly one JSON value are refused with 400 and
 * reach nobody.
 */
import assert from "node:assert/strict";
import { connect, startTestCluster } from "../_support/cluster.ts";

Deno.test("cluster trust - a forged dataJson on the internal API is refused and reaches nobody", async () => {
  await using cluster = await startTestCluster({ nodes: 1 });
  const gateway = cluster.gateways[0]!;
  const { client: bob } = await connect(cluster, 0, "bob");
  const call = async (path: string, body: unknown) => {
    const response = await fetch(`${gateway.internalUrl}${path}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${cluster.internalSecret}`,
        "content-type": "application/json",
      },
      body: JSON.stringify(body),
    });
    await response.body?.cancel();
    return response.status;
  };
  const forged = '1,"type":"welcome","userId":"eve","epoch":"forged"';
  for (const dataJson of [forged, "", "1 2", '"a"}']) {
    const delivery = {
      id: `f-${dataJson.length}`,
      dataJson,
      ts: 1,
      targets: [{ user: "bob", seq: 0 }],
    };
    assert.equal(await call("/internal/deliver", delivery), 400, dataJson);
    assert.equal(
      await call("/internal/deliver-batch", { deliveries: [delivery] }),
      400,
      dataJson,
    );
    assert.equal(
      await call("/internal/broadcast", { id: "b", dataJson, ts: 1 }),
      400,
      dataJson,
    );
  }
  // A well-formed one still goes through, and is the first bob sees.
  assert.equal(
    await call("/internal/deliver", {
      id: "ok",
      dataJson: '{"fine":true}',
      ts: 1,
      targets: [{ user: "bob", seq: 0 }],
    }),
    200,
  );
  const frame = await bob.next((f) => f.type === "message");
  assert.deepEqual(frame, {
    type: "message",
    id: "ok",
    data: { fine: true },
    ts: 1,
  });
  assert.deepEqual(
    bob.frames.map((f) => f.type),
    ["welcome", "message"],
    "nothing forged arrived before it",
  );
  await bob.close();
});
