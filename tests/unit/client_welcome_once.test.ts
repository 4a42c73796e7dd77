import assert from "node:assert/strict";
import { WsgwClient } from "../../client/wsgw_client.ts";
import { FakeGateway } from "../_support/client_fake_gateway.ts";
import { recordEvents } from "../_support/client_fakes.ts";
import { waitFor } from "../_support/until.ts";

Deno.test("client - a second welcome on one connection is ignored", async () => {
  await using gateway = new FakeGateway();
  const client = new WsgwClient({
    url: gateway.url,
    token: "tok",
    minDelay: 1,
    maxDelay: 5,
  });
  const events = recordEvents(client);
  try {
    client.connect();
    const conn = await gateway.connection(0);
    conn.welcome({ seq: 0, epoch: "e1", userId: "bob", connId: "c1" });
    conn.message(1);
    // What a forged history entry once turned its frame into.
    conn.welcome({ seq: 0, epoch: "forged", userId: "eve", connId: "x" });
    conn.message(2);
    await waitFor(() => events.messages.length === 2, { what: "2 messages" });
    assert.equal(events.welcomes.length, 1);
    assert.deepEqual(
      [client.epoch, client.userId, client.connId, client.lastSeq],
      ["e1", "bob", "c1", 2],
    );
  } finally {
    await client.close();
  }
});
