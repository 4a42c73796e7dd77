/**
 * The History contract (shared/history/history.ts), one suite for every
 * backend: `unit/history_memory.test.ts` runs it on MemoryHistory,
 * `integration/history_redis.test.ts` on RedisHistory with a real redis-server.
 *
 * @module
 */
import assert from "node:assert/strict";
import type {
  Appended,
  History,
  HistoryOptions,
  NewMessage,
} from "../../shared/history/mod.ts";
import { waitFor } from "./until.ts";

/** Opens a fresh, empty history; disposing it releases whatever it holds. */
export type OpenHistory = (options: HistoryOptions) => Promise<History>;

const DEFAULTS: HistoryOptions = { size: 100, ttl: 60 };

let counter = 0;
/** A message whose id and data name it, so mix-ups show in assertions. */
export function message(label = `m${++counter}`): NewMessage {
  return {
    id: `id-${label}`,
    ts: 1_700_000_000_000 + counter,
    dataJson: JSON.stringify({ label }),
  };
}

/** The seqs of an append, in the order of its users. */
export async function seqs(appended: Promise<Appended[]>): Promise<number[]> {
  return (await appended).map((a) => a.seq);
}

const seqsOf = (read: { messages: { seq: number }[] }) =>
  read.messages.map((entry) => entry.seq);
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Registers the contract tests of one History backend. */
export function historyContract(backend: string, open: OpenHistory): void {
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test(`${backend} history - ${name}`, fn);

  test("seqs start at 1 and increase by one per append, per user", async () => {
    await using history = await open(DEFAULTS);
    assert.deepEqual(await seqs(history.append(["alice"], message())), [1]);
    assert.deepEqual(await seqs(history.append(["alice"], message())), [2]);
    assert.deepEqual(await seqs(history.append(["bob"], message())), [1]);
    assert.deepEqual(await seqs(history.append(["alice"], message())), [3]);
    assert.equal((await history.read("bob", 0, 10)).seq, 1);
  });

  test("append gives each user the epoch its seq belongs to, the one reads show", async () => {
    await using history = await open(DEFAULTS);
    const [alice, bob] = await history.append(["alice", "bob"], message());
    assert.equal(alice!.epoch, (await history.read("alice", 0, 0)).epoch);
    assert.equal(bob!.epoch, (await history.read("bob", 0, 0)).epoch);
    assert.notEqual(alice!.epoch, "");
  });

  test("a dedupe append of an id already in the epoch returns its seq and appends nothing", async () => {
    await using history = await open(DEFAULTS);
    const first = { ...message("order-7"), dedupeKey: "key-a:push:order-7" };
    assert.deepEqual(await seqs(history.append(["a", "b"], first)), [1, 1]);
    await history.append(["a"], message());
    // A retry of the same push, after a crash, with another user added.
    assert.deepEqual(await seqs(history.append(["a", "b", "c"], first)), [
      1,
      1,
      1,
    ]);
    assert.deepEqual(seqsOf(await history.read("a", 0, 10)), [1, 2]);
    assert.deepEqual(seqsOf(await history.read("b", 0, 10)), [1]);
    // Another key (another API key's push with the same id) is appended.
    assert.deepEqual(
      await seqs(
        history.append(["b"], { ...first, dedupeKey: "key-b:push:order-7" }),
      ),
      [2],
    );
    // Without a key the same id is appended again (server-made ids are unique).
    const { dedupeKey: _, ...plain } = first;
    assert.deepEqual(await seqs(history.append(["b"], plain)), [3]);
  });

  test("a dedupe record leaves with its entry when the history is trimmed", async () => {
    await using history = await open({ ...DEFAULTS, size: 2 });
    const kept = { ...message("kept"), dedupeKey: "k:push:kept" };
    assert.deepEqual(await seqs(history.append(["u"], kept)), [1]);
    await history.append(["u"], message());
    await history.append(["u"], message());
    // Entry 1 is trimmed: the id is no longer known, so it is appended anew.
    assert.deepEqual(await seqs(history.append(["u"], kept)), [4]);
    assert.deepEqual(await seqs(history.append(["u"], kept)), [4]);
    assert.deepEqual(seqsOf(await history.read("u", 0, 10)), [3, 4]);
  });

  test("append for N users returns their seqs in the order of users", async () => {
    await using history = await open(DEFAULTS);
    await seqs(history.append(["b"], message()));
    await seqs(history.append(["b", "c"], message()));
    assert.deepEqual(await seqs(history.append(["a", "b", "c"], message())), [
      1,
      3,
      2,
    ]);
    assert.deepEqual(await seqs(history.append(["a", "a"], message())), [2, 3]);
    assert.deepEqual(await seqs(history.append([], message())), []);
  });

  test("concurrent appends to one user get distinct, gapless seqs", async () => {
    await using history = await open(DEFAULTS);
    const results = await Promise.all(
      range(1, 20).map(() => seqs(history.append(["u"], message()))),
    );
    assert.deepEqual(results.flat().sort((a, b) => a - b), range(1, 20));
    assert.deepEqual(seqsOf(await history.read("u", 0, 100)), range(1, 20));
  });

  test("read after k returns exactly the entries with seq > k, oldest first", async () => {
    await using history = await open(DEFAULTS);
    const sent = range(1, 10).map((i) => message(`r${i}`));
    for (const m of sent) await seqs(history.append(["u", "other"], m));
    const read = await history.read("u", 3, 100);
    assert.equal(read.seq, 10);
    assert.deepEqual(
      read.messages,
      sent.slice(3).map((m, i) => ({ seq: 4 + i, ...m })),
    );
    assert.deepEqual(seqsOf(await history.read("u", 10, 100)), []);
    assert.deepEqual(seqsOf(await history.read("u", 99, 100)), []);
  });

  test("read honours limit", async () => {
    await using history = await open(DEFAULTS);
    for (let i = 0; i < 10; i++) await seqs(history.append(["u"], message()));
    assert.deepEqual(seqsOf(await history.read("u", 0, 3)), [1, 2, 3]);
    assert.deepEqual(seqsOf(await history.read("u", 5, 2)), [6, 7]);
    assert.deepEqual(seqsOf(await history.read("u", 8, 5)), [9, 10]);
    const none = await history.read("u", 0, 0);
    assert.deepEqual([none.seq, none.messages], [10, []]);
  });

  test("trimming to size keeps the newest entries", async () => {
    await using history = await open({ ...DEFAULTS, size: 5 });
    for (let i = 0; i < 12; i++) await seqs(history.append(["u"], message()));
    const read = await history.read("u", 0, 100);
    assert.equal(read.seq, 12);
    assert.deepEqual(seqsOf(read), [8, 9, 10, 11, 12]);
    assert.deepEqual(seqsOf(await history.read("u", 9, 100)), [10, 11, 12]);
  });

  test("epoch is stable across appends and reads", async () => {
    await using history = await open(DEFAULTS);
    await seqs(history.append(["u"], message()));
    const { epoch } = await history.read("u", 0, 10);
    assert.ok(epoch.length > 0);
    await seqs(history.append(["u"], message()));
    assert.equal((await history.read("u", 0, 10)).epoch, epoch);
    assert.equal((await history.read("u", 1, 10)).epoch, epoch);
    assert.notEqual((await history.read("v", 0, 10)).epoch, "");
  });

  test("a never-seen user reads seq 0, an epoch and nothing; an append keeps that epoch", async () => {
    await using history = await open(DEFAULTS);
    const first = await history.read("newcomer", 0, 10);
    assert.equal(first.seq, 0);
    assert.deepEqual(first.messages, []);
    assert.ok(first.epoch.length > 0);
    assert.equal((await history.read("newcomer", 0, 10)).epoch, first.epoch);
    assert.deepEqual(await seqs(history.append(["newcomer"], message())), [1]);
    const after = await history.read("newcomer", 0, 10);
    assert.equal(after.epoch, first.epoch);
    assert.deepEqual(seqsOf(after), [1]);
  });

  test("an expired history starts again on a fresh epoch; reads do not keep it alive", async () => {
    await using history = await open({ ...DEFAULTS, ttl: 1 });
    await seqs(history.append(["u"], message()));
    await seqs(history.append(["u"], message()));
    const old = await history.read("u", 0, 10);
    assert.equal(old.seq, 2);
    const fresh = await waitFor(async () => {
      const read = await history.read("u", 0, 10);
      return read.epoch !== old.epoch ? read : undefined;
    }, { timeout: 5000, interval: 100, what: "the epoch to change" });
    assert.deepEqual([fresh.seq, fresh.messages], [0, []]);
    assert.deepEqual(await seqs(history.append(["u"], message())), [1]);
    assert.equal((await history.read("u", 0, 10)).epoch, fresh.epoch);
  });

  test("appends keep a history alive past its TTL", async () => {
    await using history = await open({ ...DEFAULTS, ttl: 1 });
    await seqs(history.append(["u"], message()));
    const { epoch } = await history.read("u", 0, 10);
    // Time passing is the point here: five appends span 1.6 TTLs.
    for (let i = 0; i < 4; i++) {
      await sleep(400);
      await seqs(history.append(["u"], message()));
    }
    const read = await history.read("u", 0, 10);
    assert.equal(read.epoch, epoch);
    assert.deepEqual(seqsOf(read), [1, 2, 3, 4, 5]);
  });

  test("user ids with slashes, spaces, braces and emoji are distinct users", async () => {
    await using history = await open(DEFAULTS);
    const users = [
      "a/b",
      "a b",
      "{a}",
      "a",
      "}{",
      "{",
      "}",
      "%7Ba%7D",
      "a}b{c",
      "😀 user/🚀",
      "x".repeat(128),
    ];
    assert.deepEqual(
      await seqs(history.append(users, message())),
      users.map(() => 1),
    );
    for (const [i, user] of users.entries()) {
      const m = message(`only-${i}`);
      assert.deepEqual(await seqs(history.append([user], m)), [2]);
      const read = await history.read(user, 1, 10);
      assert.deepEqual(read.messages, [{ seq: 2, ...m }], user);
    }
  });

  test("data round-trips byte-exact", async () => {
    await using history = await open(DEFAULTS);
    const payloads = [
      JSON.stringify({ text: "héllo wörld — 你好 — 😀👩‍👩‍👧 — e\u0301" }),
      JSON.stringify('line\u2028sep\u2029 nul\u0000 tab\t quote" back\\'),
      '{"b":1,  "a":[1,{"c":"é","d":null}],"e":{"f":{"g":[true,false,-0.5e3]}}}',
      '"\\ud800 lone surrogate, escaped"',
      JSON.stringify("x".repeat(60_000)),
      "null",
      '""',
    ];
    for (const dataJson of payloads) {
      await seqs(history.append(["u"], { id: "p", ts: 1, dataJson }));
    }
    const read = await history.read("u", 0, 100);
    assert.deepEqual(read.messages.map((m) => m.dataJson), payloads);
  });

  test("a device-targeted message keeps its device; others have none", async () => {
    await using history = await open(DEFAULTS);
    await seqs(history.append(["u"], { ...message("all"), device: undefined }));
    await seqs(
      history.append(["u"], { ...message("phone"), device: "phone 📱" }),
    );
    const read = await history.read("u", 0, 10);
    assert.deepEqual(read.messages.map((m) => m.device), [
      undefined,
      "phone 📱",
    ]);
  });

  test("a second reserve of an id is pending; after complete it is done with the answer", async () => {
    await using history = await open(DEFAULTS);
    assert.deepEqual(await history.reserve("push-1"), { state: "reserved" });
    assert.deepEqual(await history.reserve("push-1"), { state: "pending" });
    const answer = { id: "push-1", results: [{ user: "ü/😀", seq: 7 }] };
    await history.complete("push-1", answer);
    assert.deepEqual(await history.reserve("push-1"), {
      state: "done",
      answer,
    });
    assert.deepEqual(await history.reserve("push-2"), { state: "reserved" });
  });

  test("after release an id can be reserved again", async () => {
    await using history = await open(DEFAULTS);
    assert.deepEqual(await history.reserve("p"), { state: "reserved" });
    await history.release("p");
    assert.deepEqual(await history.reserve("p"), { state: "reserved" });
    await history.release("never-reserved");
  });

  test("of concurrent reserves of one id exactly one is reserved", async () => {
    await using history = await open(DEFAULTS);
    const states = await Promise.all(
      range(1, 20).map(() => history.reserve("race")),
    );
    const reserved = states.filter((s) => s.state === "reserved");
    assert.equal(reserved.length, 1);
    assert.equal(states.filter((s) => s.state === "pending").length, 19);
  });

  test("an unfinished reservation lapses after reservationTtl", async () => {
    await using history = await open({ ...DEFAULTS, reservationTtl: 1 });
    assert.deepEqual(await history.reserve("slow"), { state: "reserved" });
    assert.deepEqual(await history.reserve("slow"), { state: "pending" });
    await waitFor(
      async () => (await history.reserve("slow")).state === "reserved",
      {
        timeout: 5000,
        interval: 100,
        what: "the reservation to lapse",
      },
    );
  });

  test("ping resolves while the backend is up", async () => {
    await using history = await open(DEFAULTS);
    await history.ping();
  });
}
