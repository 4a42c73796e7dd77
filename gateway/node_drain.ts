/**
 * The clients' part of a drain: after an optional notice (readiness is 503
 * already, so balancers take the node out first), close the connections in
 * paced batches with 1012, then wait for their close handshakes.
 *
 * @module
 */
import { deadline } from "../shared/deadline.ts";
import type { Logger } from "../shared/log.ts";
import type { SessionManager } from "./session_manager.ts";

/** Longest a drain waits for its clients' close handshakes. */
const DRAIN_CLOSE_WAIT_MS = 5000;

/** How a drain closes its clients. */
export type DrainPace = {
  /** Connections closed at once. @default 500 */
  batch?: number;
  /** Milliseconds between two batches. @default 100 */
  intervalMs?: number;
  /** Milliseconds to wait before the first close. @default 0 */
  noticeMs?: number;
};

/** Closes every connection of `sessions` as `pace` says; see the module doc. */
export async function closeForDrain(
  sessions: SessionManager,
  pace: DrainPace,
  log: Logger,
): Promise<void> {
  const { batch = 500, intervalMs = 100, noticeMs = 0 } = pace;
  // Readiness is 503 from here on: give balancers time to notice before
  // the first reconnect, or they send it straight back to this node.
  if (noticeMs > 0 && sessions.connections > 0) {
    log.info("drain: not ready, waiting for balancers", { ms: noticeMs });
    await new Promise((resolve) => setTimeout(resolve, noticeMs));
  }
  const closing: Promise<void>[] = [];
  while (sessions.connections > 0) {
    for (const session of [...sessions.all()].slice(0, batch)) {
      session.close("draining");
      closing.push(session.ended);
    }
    if (sessions.connections > 0) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
  // Wait for the close handshakes, so a server shut down right after the
  // drain does not replace our 1012 with its own 1001.
  await deadline(Promise.all(closing), DRAIN_CLOSE_WAIT_MS, "drain close")
    .catch(() =>
      log.warn("some clients did not finish closing", {
        clients: closing.length,
      })
    );
}
