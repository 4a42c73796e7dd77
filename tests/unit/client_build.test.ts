import assert from "node:assert/strict";
import {
  buildClient,
  DIST_DTS,
  DIST_JS,
  DIST_MIN_JS,
} from "../../client/build.ts";
// @ts-types="../../client/dist/client.d.ts"
import { WsgwClient as BuiltClient } from "../../client/dist/client.js";
import type { WsgwMessage, WsgwWelcome } from "../../client/wsgw_client.ts";
import type { MessageFrame, WelcomeFrame } from "../../shared/protocol.ts";
import { FakeGateway } from "../_support/client_fake_gateway.ts";
import { recordEvents } from "../_support/client_fakes.ts";
import { waitFor } from "../_support/until.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("client build - client/dist matches a fresh build of client/ (run `deno task build:client`)", async () => {
  const built = await buildClient();
  const message = "stale: run `deno task build:client` and commit client/dist";
  assert.equal(
    await Deno.readTextFile(new URL(DIST_JS, ROOT)),
    built.js,
    `${DIST_JS} is ${message}`,
  );
  assert.equal(
    await Deno.readTextFile(new URL(DIST_MIN_JS, ROOT)),
    built.minJs,
    `${DIST_MIN_JS} is ${message}`,
  );
  assert.equal(
    await Deno.readTextFile(new URL(DIST_DTS, ROOT)),
    built.dts,
    `${DIST_DTS} is ${message}`,
  );
});

Deno.test("client build - the dist files import nothing", async () => {
  for (const path of [DIST_JS, DIST_MIN_JS, DIST_DTS]) {
    const text = await Deno.readTextFile(new URL(path, ROOT));
    assert.doesNotMatch(text, /^\s*import\b/m, `${path} has an import`);
    assert.doesNotMatch(text, /\bimport\s*\(/, `${path} has a dynamic import`);
    assert.doesNotMatch(text, /^\s*export\s.*\sfrom\s/m, `${path} re-exports`);
  }
});

type Same<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false;

Deno.test("client build - the client's wire types match shared/protocol.ts", () => {
  // Checked by the type checker: a drift makes these assignments fail.
  const welcome: Same<WsgwWelcome, Omit<WelcomeFrame, "type">> = true;
  const message: Same<WsgwMessage, Omit<MessageFrame, "type">> = true;
  assert.ok(welcome && message);
});

Deno.test("client build - the built module connects, delivers and closes", async () => {
  await using gateway = new FakeGateway();
  const client = new BuiltClient({ url: gateway.url, token: "t", minDelay: 1 });
  const events = recordEvents(client);
  client.connect();
  const conn = await gateway.connection(0);
  conn.welcome({ seq: 0, epoch: "e" });
  conn.message(1, "hi");
  await waitFor(() => events.messages.length === 1, { what: "a message" });
  assert.deepEqual(events.messages[0], { seq: 1, id: "m1", data: "hi", ts: 1 });
  await client.close();
  assert.deepEqual(await conn.closed, { code: 1000, reason: "client closed" });
});
