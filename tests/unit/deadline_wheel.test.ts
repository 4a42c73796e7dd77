import assert from "node:assert/strict";
import { DeadlineError } from "../../shared/deadline.ts";
import { DeadlineWheel } from "../../shared/deadline_wheel.ts";

/** A promise that settles only when told to. */
function pending<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

Deno.test("deadline wheel - settles like the promise and leaves no timer behind", async () => {
  const wheel = new DeadlineWheel(1000);
  assert.equal(await wheel.bound(Promise.resolve(7), "seven"), 7);
  const error = await wheel.bound(Promise.reject(new Error("no")), "fails")
    .then(() => null, (e) => e);
  assert.equal(error?.message, "no");
  // The sanitizers fail this test if a timer is still armed here.
});

Deno.test("deadline wheel - a hung call fails with a DeadlineError once its time is up, within a tick", async () => {
  const wheel = new DeadlineWheel(60, 10);
  const hung = pending<number>();
  const started = performance.now();
  const error = await wheel.bound(hung.promise, "history read").then(
    () => null,
    (e) => e,
  );
  const ms = performance.now() - started;
  assert.ok(error instanceof DeadlineError);
  assert.match(error.message, /history read: no answer within 60 ms/);
  assert.ok(ms >= 59 && ms < 500, `${ms} ms`);
  hung.resolve(1); // late: ignored
});

Deno.test("deadline wheel - only the calls that hang expire; the others keep their results", async () => {
  const wheel = new DeadlineWheel(50, 5);
  const hung = [pending<string>(), pending<string>()];
  const calls = [
    wheel.bound(Promise.resolve("a"), "a"),
    wheel.bound(hung[0]!.promise, "b"),
    wheel.bound(new Promise((r) => setTimeout(() => r("c"), 10)), "c"),
    wheel.bound(hung[1]!.promise, "d"),
  ];
  const settled = await Promise.allSettled(calls);
  assert.deepEqual(settled.map((s) => s.status), [
    "fulfilled",
    "rejected",
    "fulfilled",
    "rejected",
  ]);
  // A call made after the others expired gets a full deadline of its own.
  const later = pending<string>();
  const again = wheel.bound(later.promise, "e");
  setTimeout(() => later.resolve("e"), 20);
  assert.equal(await again, "e");
});
