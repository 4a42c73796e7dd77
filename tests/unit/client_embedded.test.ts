/**
 * The built client against the real embedded gateway (memory backends): the
 * same module browsers get from `/client.js`.
 */
import assert from "node:assert/strict";
// @ts-types="../../client/dist/client.d.ts"
import { WsgwClient } from "../../client/dist/client.js";
import { signToken } from "../../shared/token.ts";
import { recordEvents } from "../_support/client_fakes.ts";
import { JWT_SECRET, startTestGateway } from "../_support/embedded.ts";
import { freePort, waitFor } from "../_support/until.ts";

function clientFor(port: number, token: string | (() => Promise<string>)) {
  const client = new WsgwClient({
    url: `ws://127.0.0.1:${port}/ws`,
    token,
    minDelay: 5,
    maxDelay: 50,
  });
  return { client, events: recordEvents(client) };
}

const tokenOf = (user: string) => () => signToken(JWT_SECRET, { sub: user });

Deno.test("client embedded - push, broadcast, then 4003 from the API stops the client", async () => {
  await using gateway = await startTestGateway();
  const port = Number(new URL(gateway.url).port);
  const user = "alice/😀 x";
  const { client, events } = clientFor(port, tokenOf(user));
  try {
    client.connect();
    await waitFor(() => client.userId === user, { what: "welcome" });
    await gateway.api("POST", "/v1/push", { users: [user], data: { a: 1 } });
    await gateway.api("POST", "/v1/broadcast", { data: "all" });
    await waitFor(() => events.messages.length === 2, { what: "2 messages" });
    assert.deepEqual(events.messages.map((m) => [m.seq, m.data]), [
      [1, { a: 1 }],
      [undefined, "all"],
    ]);
    const path = `/v1/users/${encodeURIComponent(user)}/disconnect`;
    assert.equal((await gateway.api("POST", path, {})).status, 200);
    await waitFor(() => events.closed.length === 1, { what: "closed" });
    assert.deepEqual(events.closed, [{ code: 4003, reason: "disconnected" }]);
  } finally {
    await client.close();
  }
});

Deno.test("client embedded - a bad token ends in an unauthorized error", async () => {
  await using gateway = await startTestGateway();
  const { client, events } = clientFor(
    Number(new URL(gateway.url).port),
    "not-a-jwt",
  );
  client.connect();
  await waitFor(() => events.closed.length === 1, { what: "closed" });
  assert.deepEqual(events.errors.map((e) => e.code), ["unauthorized"]);
  await client.close();
});

Deno.test("client embedded - after a restart (new epoch) the replay is delivered, not dropped", async () => {
  const port = freePort();
  let gateway = await startTestGateway({ PORT: String(port) });
  const { client, events } = clientFor(port, tokenOf("carol"));
  try {
    client.connect();
    await waitFor(() => client.connId, { what: "welcome" });
    await gateway.api("POST", "/v1/push", { users: ["carol"], data: "one" });
    await gateway.api("POST", "/v1/push", { users: ["carol"], data: "two" });
    await waitFor(() => client.lastSeq === 2, { what: "seq 2" });
    const epoch = client.epoch;
    await gateway.shutdown();
    await waitFor(() => client.state === "connecting", {
      what: "reconnecting",
    });
    gateway = await startTestGateway({ PORT: String(port) });
    await gateway.api("POST", "/v1/push", { users: ["carol"], data: "three" });
    await waitFor(() => events.messages.length === 3, { what: "the replay" });
    assert.notEqual(client.epoch, epoch);
    assert.equal(events.welcomes.at(-1)!.recovered, false);
    assert.deepEqual(events.messages.map((m) => [m.seq, m.data]), [
      [1, "one"],
      [2, "two"],
      [1, "three"],
    ]);
  } finally {
    await client.close();
    await gateway.shutdown();
  }
});
