/**
 * Chaos 5: the router restarted while pushes stream. Pushes that fail while
 * it is down are retried by the pusher with the same `id`; idempotency keeps
 * each single.
 */
import assert from "node:assert/strict";
import { assertClean, runChaosCase } from "../_support/chaos_run.ts";

Deno.test("chaos - router restart mid-stream: retried pushes delivered once, nothing lost or out of order", async () => {
  const { figures } = await runChaosCase({
    name: "router restarted",
    async fault({ cluster, note }) {
      const router = cluster.routers[0]!;
      const began = Date.now();
      await router.restart();
      note("router down for", `${Date.now() - began} ms`);
    },
  });
  assertClean(figures);
  assert.ok(figures.retried > 0, "some pushes were retried with their id");
});
