import assert from "node:assert/strict";
import { shutdownWithin } from "../../shared/serve.ts";

Deno.test("serve - a shutdown that never finishes is cut short after the wait, and said so", async () => {
  let late = 0;
  const started = performance.now();
  const done = await shutdownWithin(
    { shutdown: () => new Promise<void>(() => {}) },
    50,
    () => late++,
  );
  assert.equal(done, false);
  assert.equal(late, 1);
  assert.ok(performance.now() - started >= 45);
});

Deno.test("serve - a shutdown that finishes in time is waited for", async () => {
  let late = 0;
  const done = await shutdownWithin(
    { shutdown: () => Promise.resolve() },
    1000,
    () => late++,
  );
  assert.equal(done, true);
  assert.equal(late, 0);
});
