/**
 * Properties of a real gateway process (embedded) under hostile clients:
 * random frames always get their specified answer and never hurt anyone
 * else; any user id either works end to end or is refused as specified; and
 * no client ever sees a message addressed to another user.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { JWT_SECRET, startTestGateway } from "../_support/embedded.ts";
import { rawUpgrade, TestClient } from "../_support/ws_client.ts";
import type { ServerFrame } from "../../shared/protocol.ts";
import { userIdProblem } from "../../shared/protocol.ts";
import { hmacJwt } from "./_arbitraries.ts";

const MAX_FRAME = 1024;
/** Many sockets open from one address in a short time: that limit is tested elsewhere. */
const GATEWAY_ENV = {
  WSGW_MAX_MESSAGE_BYTES: String(MAX_FRAME),
  WSGW_CONNECT_RATE: "0",
};

type Outgoing = string | Uint8Array;

/** What the protocol says a frame gets: a pong, an error of a code, or a 1008 close. */
function expected(frame: Outgoing): string {
  if (frame instanceof Uint8Array) {
    return frame.byteLength > MAX_FRAME
      ? "close:1008"
      : "error:binary_unsupported";
  }
  if (frame.length > MAX_FRAME) return "close:1008";
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame);
  } catch {
    return "error:invalid_json";
  }
  const type = typeof parsed === "object" && parsed !== null
    ? (parsed as { type?: unknown }).type
    : undefined;
  return type === "ping" ? "pong" : "error:unknown_type";
}

const frame: fc.Arbitrary<Outgoing> = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.string({ unit: "binary", maxLength: 64 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.record({
    type: fc.oneof(
      fc.constantFrom("ping", "pong", "message", "welcome"),
      fc.jsonValue(),
    ),
  })
    .map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 64 }),
  fc.integer({ min: MAX_FRAME + 1, max: 4 * MAX_FRAME }).map((n) =>
    "x".repeat(n)
  ),
  fc.integer({ min: MAX_FRAME + 1, max: 4 * MAX_FRAME }).map((n) =>
    new Uint8Array(n)
  ),
);

Deno.test("property - random client frames get their specified answer and the node stays healthy", async () => {
  await using gw = await startTestGateway(GATEWAY_ENV);
  const { client: bystander } = await TestClient.welcomed(
    await gw.wsUrl("bystander"),
  );
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(frame, { minLength: 1, maxLength: 8 }),
      async (frames) => {
        const { client } = await TestClient.welcomed(await gw.wsUrl("fuzzer"));
        let strikes = 0;
        // One frame at a time, each answered before the next: the answers are
        // then exactly the protocol's.
        for (const outgoing of frames) {
          const want = expected(outgoing);
          const before = client.frames.length;
          client.socket.send(outgoing);
          if (want.startsWith("error:")) strikes++;
          const closes = want === "close:1008" || strikes >= 5;
          const answer = await waitAnswer(client, before, closes);
          if (want.startsWith("error:")) {
            assert.equal(
              answer.frame,
              want,
              JSON.stringify(outgoing).slice(0, 80),
            );
          } else if (want === "pong") {
            assert.equal(answer.frame, "pong");
          }
          if (closes) {
            assert.equal(answer.closeCode, 1008);
            return;
          }
        }
        await client.close();
        run++;
      },
    ),
    { numRuns: 60 },
  );
  // Whatever the fuzzer did, the client next to it was never touched.
  const push = await gw.api("POST", "/v1/push", {
    users: ["bystander"],
    data: "fine",
  });
  assert.equal(push.body.results[0].devices, 1);
  await bystander.next((f) => f.type === "message" && f.data === "fine");
  assert.equal(bystander.isClosed, undefined);
  assert.equal((await gw.api("GET", "/healthz")).status, 200);
  assert.ok(run > 0, "some runs ended with the client still open");
  await bystander.close();
});

/** The next frame after `from` (as `pong` / `error:<code>`), and the close code when it `closes`. */
async function waitAnswer(
  client: TestClient,
  from: number,
  closes: boolean,
): Promise<{ frame?: string; closeCode?: number }> {
  const describe = (f: ServerFrame | undefined) =>
    f === undefined
      ? undefined
      : f.type === "error"
      ? `error:${f.code}`
      : f.type;
  if (closes) {
    const { code } = await client.closed;
    return { frame: describe(client.frames[from]), closeCode: code };
  }
  const found = await client.next((f) => client.frames.indexOf(f) >= from);
  return { frame: describe(found) };
}

const anyUserId = fc.oneof(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }),
  fc.string({ unit: "grapheme-composite", minLength: 1, maxLength: 10 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom(
    "valueOf",
    "__proto__",
    "constructor",
    ".",
    "..",
    "a/b",
    "../etc",
    "🙂 x",
    "%2F",
    " ",
    "x".repeat(128),
    "x".repeat(129),
    "\u0000",
    "\u007f",
  ),
);

Deno.test("property - any user id either works end to end or is refused as specified", async () => {
  await using gw = await startTestGateway(GATEWAY_ENV);
  const exp = Math.floor(Date.now() / 1000) + 600;
  let accepted = 0;
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(anyUserId, async (user) => {
      // Signed by hand: jose would re-encode a lone surrogate as U+FFFD.
      const token = await hmacJwt(JWT_SECRET, "HS256", { sub: user, exp });
      const problem = userIdProblem(user);
      if (problem !== undefined) {
        refused++;
        const upgrade = await rawUpgrade(gw.url, `/ws?token=${token}`);
        assert.equal(upgrade.status, 401);
        assert.equal(JSON.parse(upgrade.body).error.code, "token_invalid");
        const push = await gw.api("POST", "/v1/push", {
          users: [user],
          data: 1,
        });
        assert.equal(push.status, 400);
        return;
      }
      accepted++;
      const url = new URL("/ws", gw.url.replace("http", "ws"));
      url.searchParams.set("token", token);
      const { client, welcome } = await TestClient.welcomed(url.href);
      assert.equal(welcome.userId, user);
      const push = await gw.api("POST", "/v1/push", {
        users: [user],
        data: { for: user },
      });
      assert.equal(push.status, 200);
      assert.equal(push.body.results[0].user, user);
      assert.equal(push.body.results[0].devices, 1);
      const message = await client.next((f) => f.type === "message");
      assert.deepEqual(message.type === "message" && message.data, {
        for: user,
      });
      const presence = await gw.api(
        "GET",
        `/v1/users/${encodeURIComponent(user)}/presence`,
      );
      assert.equal(presence.body.user, user);
      assert.equal(presence.body.online, true);
      await client.close();
    }),
    { numRuns: 80 },
  );
  assert.ok(
    accepted > 0 && refused > 0,
    `accepted ${accepted}, refused ${refused}`,
  );
});

Deno.test("property - across users and random pushes, nobody sees another user's message", async () => {
  await using gw = await startTestGateway(GATEWAY_ENV);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
        {
          minLength: 2,
          maxLength: 5,
        },
      ),
      fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), {
        minLength: 1,
        maxLength: 12,
      }),
      fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 5, maxLength: 5 }),
      async (names, pushes, deviceCounts) => {
        const users = names.map((name) => `r${run}:${name}`);
        run++;
        const devices: { user: string; client: TestClient }[] = [];
        for (const [i, user] of users.entries()) {
          for (let d = 0; d < deviceCounts[i]!; d++) {
            devices.push({
              user,
              client: (await TestClient.welcomed(await gw.wsUrl(user))).client,
            });
          }
        }
        const sent = new Map(users.map((u) => [u, [] as number[]]));
        for (const [n, picks] of pushes.entries()) {
          const to = [...new Set(picks.map((p) => users[p % users.length]!))];
          await gw.api("POST", "/v1/push", { users: to, data: n });
          for (const user of to) sent.get(user)!.push(n);
        }
        // A last push to everyone: once it arrives, all before it has (per-user seq order).
        await gw.api("POST", "/v1/push", { users, data: "end" });
        for (const { user, client } of devices) {
          await client.next((f) => f.type === "message" && f.data === "end");
          const got = client.messages().map((m) => m.data).filter((d) =>
            d !== "end"
          );
          assert.deepEqual(
            got,
            sent.get(user),
            `${user} saw exactly its own messages`,
          );
          await client.close();
        }
      },
    ),
    { numRuns: 25 },
  );
});
