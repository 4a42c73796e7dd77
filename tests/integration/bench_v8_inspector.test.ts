/**
 * The bench's forced GC (ops/bench/v8_inspector.ts) through a process's V8
 * inspector: an object the process no longer holds is collected by it, in
 * an idle process where no GC would otherwise run.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  collectGarbage,
  inspectorFlag,
  type InspectorSession,
  openInspector,
} from "../../ops/bench/v8_inspector.ts";
import { waitFor } from "../_support/until.ts";

const SCRIPT = `
globalThis.ref = new WeakRef({ tag: "dropped at once" });
setInterval(() => {}, 1000);
`;

async function collected(session: InspectorSession): Promise<boolean> {
  const answer = await session.call<{ result: { value: unknown } }>(
    "Runtime.evaluate",
    { expression: "globalThis.ref.deref() === undefined", returnByValue: true },
  );
  return answer.result.value === true;
}

Deno.test("v8 inspector: a forced GC collects what an idle process dropped", async () => {
  const { port, flag } = inspectorFlag();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", flag, SCRIPT],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const session = await waitFor(
      () => openInspector(port).catch(() => undefined),
      { what: "the inspector answers", timeout: 20_000 },
    );
    try {
      await waitFor(
        async () =>
          (await session.call<{ result: { value: unknown } }>(
            "Runtime.evaluate",
            { expression: "globalThis.ref !== undefined", returnByValue: true },
          )).result.value === true,
        { what: "the script ran" },
      );
      assert.equal(await collected(session), false, "collected before the GC");
    } finally {
      await session.close();
    }
    const heap = await collectGarbage([port]);
    assert.ok(heap.usedBytes > 0 && heap.totalBytes >= heap.usedBytes);
    const after = await openInspector(port);
    try {
      assert.equal(await collected(after), true, "still there after the GC");
    } finally {
      await after.close();
    }
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
});
