/**
 * The NodeApi contract (shared/node_api.ts), one suite for every way a router
 * reaches a node: `unit/node_api_local.test.ts` runs it on the gateway node
 * in-process (as the embedded process calls it), `unit/node_api_http.test.ts`
 * through HttpNodeClient and the real internal app over HTTP.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { NodeApi } from "../../shared/node_api.ts";
import { startTestGateway, type TestGateway } from "./embedded.ts";
import { TestClient } from "./ws_client.ts";

/** A node reached one way, over a real gateway node with real sockets. */
export type ReachedNode = AsyncDisposable & { api: NodeApi };

/** Wraps the embedded test gateway's node into the API under test. */
export type ReachNode = (gateway: TestGateway) => Promise<ReachedNode>;

let counter = 0;
const delivery = (targets: string[], device?: string) => ({
  id: `push-${++counter}`,
  dataJson: JSON.stringify({ n: counter }),
  ts: 1_700_000_000_000 + counter,
  ...(device === undefined ? {} : { device }),
  targets: targets.map((user) => ({ user, seq: 0 })),
});

/** Registers the contract's tests for the transport named `name`. */
export function nodeApiContract(name: string, reach: ReachNode): void {
  const test = (
    title: string,
    fn: (
      node: ReachedNode,
      connect: (user: string, device?: string) => Promise<TestClient>,
    ) => Promise<void>,
  ) =>
    Deno.test(`node api (${name}) - ${title}`, async () => {
      await using gateway = await startTestGateway();
      await using node = await reach(gateway);
      const clients: TestClient[] = [];
      try {
        await fn(node, async (user, device) => {
          const { client } = await TestClient.welcomed(
            await gateway.wsUrl(user, { device }),
          );
          clients.push(client);
          return client;
        });
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    });

  test(
    "deliver writes to every connection of each target and counts them; an absent user counts 0",
    async (node, connect) => {
      const a1 = await connect("a");
      const a2 = await connect("a");
      const b = await connect("b");
      const request = delivery(["a", "b", "nobody"]);
      assert.deepEqual(
        { ...(await node.api.deliver(request)).devices },
        { a: 2, b: 1, nobody: 0 },
      );
      for (const client of [a1, a2, b]) {
        const [message] = await client.waitMessages(1);
        assert.equal(message!.id, request.id);
        assert.deepEqual(message!.data, JSON.parse(request.dataJson));
      }
    },
  );

  test(
    "deliver with a device label reaches only that device",
    async (node, connect) => {
      const phone = await connect("a", "phone");
      const laptop = await connect("a", "laptop");
      const result = await node.api.deliver(delivery(["a"], "phone"));
      assert.deepEqual({ ...result.devices }, { a: 1 });
      await phone.waitMessages(1);
      await node.api.deliver(delivery(["a"]));
      await laptop.waitMessages(1);
      assert.equal(laptop.messages().length, 1);
    },
  );

  test(
    "deliveries of one caller reach a socket in the order they were made",
    async (node, connect) => {
      const a = await connect("a");
      const requests = Array.from({ length: 20 }, () => delivery(["a"]));
      await Promise.all(requests.map((r) => node.api.deliver(r)));
      const got = await a.waitMessages(20);
      assert.deepEqual(got.map((m) => m.id), requests.map((r) => r.id));
    },
  );

  test(
    "broadcast counts every connection and writes an id once",
    async (node, connect) => {
      const clients = [await connect("a"), await connect("b")];
      const request = { id: `b-${++counter}`, dataJson: '"hi"', ts: 1 };
      assert.deepEqual(await node.api.broadcast(request), { devices: 2 });
      assert.deepEqual(await node.api.broadcast(request), { devices: 0 });
      for (const client of clients) await client.waitMessages(1);
    },
  );

  test(
    "presence lists a user's connections oldest first; [] for nobody",
    async (node, connect) => {
      await connect("a", "phone");
      await connect("a", "laptop");
      const devices = await node.api.presence("a");
      assert.deepEqual(devices.map((d) => d.device), ["phone", "laptop"]);
      assert.ok(devices[0]!.connectedAt <= devices[1]!.connectedAt);
      assert.deepEqual(await node.api.presence("nobody"), []);
    },
  );

  test(
    "kick closes the user's connections with 4003 (one device, then all)",
    async (node, connect) => {
      const phone = await connect("a", "phone");
      const laptop = await connect("a", "laptop");
      assert.deepEqual(await node.api.kick({ user: "a", device: "phone" }), {
        closed: 1,
      });
      assert.equal((await phone.closed).code, 4003);
      assert.equal(laptop.isClosed, undefined);
      assert.deepEqual(await node.api.kick({ user: "a" }), { closed: 1 });
      assert.equal((await laptop.closed).code, 4003);
      assert.deepEqual(await node.api.kick({ user: "nobody" }), { closed: 0 });
    },
  );

  test(
    "catchUp makes each connection of the users look in history",
    async (node, connect) => {
      await connect("a");
      await connect("a");
      await connect("b");
      assert.deepEqual(await node.api.catchUp({ users: ["a", "nobody"] }), {
        sessions: 2,
      });
    },
  );

  test("stats counts connections and users", async (node, connect) => {
    await connect("a");
    await connect("a");
    await connect("b");
    const stats = await node.api.stats();
    assert.equal(stats.connections, 3);
    assert.equal(stats.users, 2);
    assert.equal(stats.draining, false);
  });
}
