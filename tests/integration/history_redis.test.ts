/**
 * RedisHistory against a real redis-server: the History contract, then what
 * only Redis has (pipelining, reconnects, outages).
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { deadline } from "../../shared/deadline.ts";
import { UnavailableError } from "../../shared/errors.ts";
import type { History, HistoryOptions } from "../../shared/history/mod.ts";
import { RedisHistory } from "../../shared/history/redis.ts";
import { type LogFields, silentLogger } from "../../shared/log.ts";
import {
  historyContract,
  message,
  seqs,
} from "../_support/history_contract.ts";
import {
  type RedisServer,
  startRedis,
} from "../../ops/servers/redis_server.ts";
import { waitFor } from "../_support/until.ts";

const OPTIONS: HistoryOptions = { size: 100, ttl: 60 };

function connect(
  server: RedisServer,
  options: Partial<Parameters<typeof RedisHistory.connect>[0]> = {},
): Promise<RedisHistory> {
  return RedisHistory.connect({
    ...OPTIONS,
    url: server.url,
    log: silentLogger,
    ...options,
  });
}

historyContract("redis", async (options) => {
  const server = await startRedis();
  try {
    return owning(await connect(server, options), server);
  } catch (error) {
    await server[Symbol.asyncDispose]();
    throw error;
  }
});

/** A history that stops its own redis-server when disposed. */
function owning(history: History, server: RedisServer): History {
  return {
    append: (users, m) => history.append(users, m),
    read: (user, after, limit) => history.read(user, after, limit),
    reserve: (id) => history.reserve(id),
    complete: (id, answer) => history.complete(id, answer),
    release: (id) => history.release(id),
    ping: () => history.ping(),
    async [Symbol.asyncDispose]() {
      await history[Symbol.asyncDispose]();
      await server[Symbol.asyncDispose]();
    },
  };
}

/** Counts, while `fn` runs, pipelines made and commands sent directly or inside one. */
async function countingRoundTrips(fn: () => Promise<void>) {
  const counts = { pipelines: 0, pipelined: 0, direct: 0 };
  const proto = Redis.prototype as unknown as Record<
    "pipeline" | "sendCommand",
    (...args: unknown[]) => unknown
  >;
  const { pipeline, sendCommand } = proto;
  proto.pipeline = function (this: unknown, ...args: unknown[]) {
    counts.pipelines++;
    return pipeline.apply(this, args);
  };
  proto.sendCommand = function (this: unknown, ...args: unknown[]) {
    const stream = args[1] as { isPipeline?: boolean } | undefined;
    if (stream?.isPipeline) counts.pipelined++;
    else counts.direct++;
    return sendCommand.apply(this, args);
  };
  try {
    await fn();
  } finally {
    Object.assign(proto, { pipeline, sendCommand });
  }
  return counts;
}

Deno.test("redis history - append for 5,000 users is one pipeline", async () => {
  await using server = await startRedis();
  // What counts here is round trips, not speed: a busy machine may take
  // longer than the 2 s default per call.
  await using history = await connect(server, { commandTimeout: 30_000 });
  const users = Array.from({ length: 5000 }, (_, i) => `user-${i}`);
  let given: number[] = [];
  const started = performance.now();
  const counts = await countingRoundTrips(async () => {
    given = await seqs(history.append(users, message()));
  });
  const ms = performance.now() - started;
  assert.deepEqual(counts, { pipelines: 1, pipelined: 5000, direct: 0 });
  assert.deepEqual(given, users.map(() => 1));
  assert.equal((await history.read("user-4999", 0, 10)).seq, 1);
  // deno-lint-ignore no-console
  console.log(`  append to 5,000 users: ${ms.toFixed(1)} ms`);
});

Deno.test("redis history - an append to many users gets time in proportion to them", async () => {
  await using server = await startRedis();
  // 50 ms is plenty for one user's append and far too little for 2,000
  // (hundreds of ms here): the call's bound grows with its users.
  await using history = await connect(server, { commandTimeout: 50 });
  const users = Array.from({ length: 2000 }, (_, i) => `many-${i}`);
  assert.deepEqual(
    await seqs(history.append(users, message())),
    users.map(() => 1),
  );
  assert.deepEqual(await seqs(history.append(["one"], message())), [1]);
});

Deno.test("redis history - history survives a new RedisHistory instance", async () => {
  await using server = await startRedis();
  const sent = message();
  let epoch: string;
  {
    await using first = await connect(server);
    await seqs(first.append(["u"], message()));
    await seqs(first.append(["u"], sent));
    epoch = (await first.read("u", 0, 10)).epoch;
    await first.reserve("p");
    await first.complete("p", { ok: 1 });
  }
  await using second = await connect(server);
  const read = await second.read("u", 1, 10);
  assert.equal(read.epoch, epoch);
  assert.deepEqual(read.messages, [{ seq: 2, ...sent }]);
  assert.deepEqual(await seqs(second.append(["u"], message())), [3]);
  assert.deepEqual(await second.reserve("p"), {
    state: "done",
    answer: { ok: 1 },
  });
});

Deno.test("redis history - key prefixes keep two histories apart", async () => {
  await using server = await startRedis();
  await using a = await connect(server, { keyPrefix: "a:" });
  await using b = await connect(server, { keyPrefix: "b:" });
  await seqs(a.append(["u"], message()));
  assert.deepEqual(await seqs(b.append(["u"], message())), [1]);
  assert.deepEqual(await b.reserve("p"), { state: "reserved" });
  assert.deepEqual(await a.reserve("p"), { state: "reserved" });
});

Deno.test("redis history - a lost meta hash starts a fresh epoch and drops the stale stream", async () => {
  await using server = await startRedis();
  await using history = await connect(server);
  await seqs(history.append(["u"], message()));
  await seqs(history.append(["u"], message()));
  const { epoch } = await history.read("u", 0, 10);
  const raw = new Redis(server.url);
  try {
    assert.equal(await raw.del("wsgw:{u}:meta"), 1);
  } finally {
    await raw.quit();
  }
  assert.deepEqual(await seqs(history.append(["u"], message())), [1]);
  const read = await history.read("u", 0, 10);
  assert.notEqual(read.epoch, epoch);
  assert.deepEqual(read.messages.map((m) => m.seq), [1]);
});

Deno.test("redis history - scripts flushed from Redis are loaded again (NOSCRIPT)", async () => {
  await using server = await startRedis();
  await using history = await connect(server);
  await seqs(history.append(["a", "b"], message()));
  await history.reserve("p");
  const raw = new Redis(server.url);
  try {
    assert.equal(await raw.script("FLUSH"), "OK");
  } finally {
    await raw.quit();
  }
  assert.deepEqual(await seqs(history.append(["a", "b", "c"], message())), [
    2,
    2,
    1,
  ]);
  assert.equal((await history.read("a", 0, 10)).seq, 2);
  assert.deepEqual(await history.reserve("p"), { state: "pending" });
  await history.release("p");
  assert.deepEqual(await history.reserve("p"), { state: "reserved" });
});

Deno.test("redis history - connect to a stopped or hung Redis fails fast", async () => {
  await using server = await startRedis();
  const refused = (error: Error) => {
    assert.ok(error instanceof UnavailableError);
    assert.match(
      error.message,
      /^Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/,
    );
    return true;
  };
  server.pause();
  try {
    await deadline(
      assert.rejects(connect(server, { connectTimeout: 500 }), refused),
      3000,
      "connect to a hung Redis to fail",
    );
  } finally {
    server.resume();
  }
  await server.stop();
  await deadline(
    assert.rejects(connect(server, { connectTimeout: 500 }), refused),
    3000,
    "connect to a stopped Redis to fail",
  );
});

Deno.test("redis history - a killed Redis fails calls fast; a restarted one is used again", async () => {
  await using server = await startRedis();
  const events: LogFields[] = [];
  const log = { ...silentLogger };
  log.warn = (event, fields) => events.push({ event, ...fields });
  log.info = (event, fields) => events.push({ event, ...fields });
  await using history = await connect(server, { log });
  await seqs(history.append(["u"], message()));

  // One append is in flight when Redis dies, the others come after.
  const users = Array.from({ length: 5000 }, (_, i) => `user-${i}`);
  const inFlight = seqs(history.append(users, message())).then(
    () => "resolved",
    (error: Error) => error.name,
  );
  await server.kill();
  const started = Date.now();
  const inFlightOutcome = await deadline(
    inFlight,
    2000,
    "the append in flight to settle",
  );
  await deadline(
    assert.rejects(seqs(history.append(["u"], message())), UnavailableError),
    2000,
    "append to reject",
  );
  await deadline(
    assert.rejects(history.ping(), UnavailableError),
    2000,
    "ping to reject",
  );
  await deadline(
    assert.rejects(history.read("u", 0, 10), UnavailableError),
    2000,
    "read to reject",
  );
  await deadline(
    assert.rejects(history.reserve("p"), UnavailableError),
    2000,
    "reserve to reject",
  );
  const failedWithin = Date.now() - started;

  await server.restart();
  await waitFor(() => history.ping().then(() => true), {
    timeout: 5000,
    interval: 50,
    what: "the same instance to reach the restarted Redis",
  });
  // The restarted server is empty: a new epoch, seqs from 1 again.
  assert.deepEqual(await seqs(history.append(["u"], message())), [1]);
  assert.deepEqual(await history.reserve("p"), { state: "reserved" });
  assert.deepEqual(
    events.map((e) => e.event),
    ["history backend down", "history backend up"],
  );
  // deno-lint-ignore no-console
  console.log(
    `  in-flight append: ${inFlightOutcome}; calls failed within ${failedWithin} ms of the kill`,
  );
});

Deno.test("redis history - a hung Redis fails calls after the command timeout", async () => {
  await using server = await startRedis();
  await using history = await connect(server, { commandTimeout: 500 });
  await seqs(history.append(["u"], message()));
  server.pause();
  try {
    const started = Date.now();
    await deadline(
      assert.rejects(seqs(history.append(["u"], message())), UnavailableError),
      2000,
      "append to a hung Redis to reject",
    );
    await deadline(
      assert.rejects(history.ping(), UnavailableError),
      2000,
      "ping of a hung Redis to reject",
    );
    assert.ok(Date.now() - started >= 400, "failed before the timeout");
  } finally {
    server.resume();
  }
  await history.ping();
  // The timed-out append still ran once Redis woke up: a failure only means
  // "unknown outcome", which is why push ids make retries safe.
  assert.equal((await history.read("u", 0, 10)).seq, 2);
});

Deno.test("redis history - disposing while Redis is down or hung does not hang", async () => {
  await using server = await startRedis();
  const down = await connect(server);
  const hung = await connect(server, { commandTimeout: 300 });
  server.pause();
  await deadline(hung[Symbol.asyncDispose](), 2000, "dispose of a hung one");
  await server.kill();
  await assert.rejects(down.ping(), UnavailableError);
  await deadline(down[Symbol.asyncDispose](), 2000, "dispose of a down one");
});
