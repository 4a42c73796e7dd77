/**
 * The connect/push race across real processes: pushes stream at ~10 per
 * user per second while clients keep connecting, some for the first time
 * (no since) and most resuming on another node (since/epoch). Checked per
 * connection: every seq from where it started, once each, in order; and
 * per device: every accepted seq it is owed.
 */
import assert from "node:assert/strict";
import { assertClean, runChaosCase, sleep } from "../_support/chaos_run.ts";

const USERS = 150;
const LATE = 30;

Deno.test("chaos - pushes racing connects: per connection no loss, no duplicate, in order", async () => {
  let moves = 0;
  const { figures } = await runChaosCase({
    name: "pushes racing connects",
    // 100 pushes/s × 15 users: each user gets a push every 0.1 s.
    sizes: { users: USERS, rate: 100, batch: 15, beforeMs: 1000 },
    late: LATE,
    async fault({ fleet, note }) {
      const late = fleet.devices.slice(USERS - LATE);
      const settled = fleet.devices.slice(0, USERS - LATE);
      let joined = 0;
      // 80 rounds, 100 ms apart (8 s on a quiet machine): one first-time
      // client and five clients cut off and resuming on another node each.
      // Counted, not timed, so a busy machine still makes all 400 moves.
      for (let round = 0; round < 80; round++) {
        if (joined < late.length) late[joined++]!.client.connect();
        const pick = Array.from(
          { length: 5 },
          () => settled[Math.floor(Math.random() * settled.length)]!,
        );
        fleet.move(pick, (d) => (d.home + 1 + (moves++ % 2)) % 3);
        await sleep(100);
      }
      await fleet.waitAllOpen(30_000);
      note("first connects during the stream", joined);
      note("moves to another node", moves);
    },
  });
  assertClean(figures);
  // The race happened: most moves made a reconnect (a device picked again
  // while it is still reconnecting makes one for both).
  assert.equal(moves, 400);
  assert.ok(
    figures.reconnects >= moves / 2,
    `${figures.reconnects} reconnects for ${moves} moves`,
  );
});
