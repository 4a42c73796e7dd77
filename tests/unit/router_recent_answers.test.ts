import assert from "node:assert/strict";
import { RecentAnswers } from "../../router/recent_answers.ts";

Deno.test("recent answers - a remembered answer is given again until it expires", async () => {
  let now = 0;
  const recent = new RecentAnswers({ ttlMs: 1000, now: () => now });
  let runs = 0;
  const run = () => Promise.resolve(++runs);
  assert.equal(await recent.remember("a", run), 1);
  assert.equal(await recent.get("a"), 1);
  now = 999;
  assert.equal(await recent.get("a"), 1);
  now = 1000;
  assert.equal(recent.get("a"), undefined);
});

Deno.test("recent answers - a failed run is forgotten, so a retry runs again", async () => {
  const recent = new RecentAnswers();
  await assert.rejects(
    recent.remember("a", () => Promise.reject(new Error("no node"))),
  );
  await Promise.resolve();
  assert.equal(recent.get("a"), undefined);
});

Deno.test("recent answers - past max the oldest id goes first", async () => {
  const recent = new RecentAnswers({ max: 2 });
  for (const key of ["a", "b", "c"]) {
    await recent.remember(key, () => Promise.resolve(key));
  }
  assert.equal(recent.get("a"), undefined);
  assert.equal(await recent.get("b"), "b");
  assert.equal(await recent.get("c"), "c");
});
