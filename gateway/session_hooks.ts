/**
 * The options every ChannelSession of a node shares: its limits, how it
 * reads history for a gap, and the metrics and logs of what it writes. One
 * object per node, so a connection holds no closures of its own for them.
 *
 * @module
 */
import type { Config } from "../shared/config.ts";
import { deadline } from "../shared/deadline.ts";
import type { History } from "../shared/history/mod.ts";
import type { Logger } from "../shared/log.ts";
import type {
  ChannelOptions,
  ChannelSession,
  HistorySlice,
} from "./channel_session.ts";
import { historySlice } from "./connect_flow.ts";
import type { GatewayMetrics } from "./metrics.ts";

/** Longest a gap read waits for history before it counts as failed (and is retried). */
const FILL_TIMEOUT_MS = 2000;

/** What the shared options are made of. */
export type SessionHooksDeps = {
  config: Config;
  history: History;
  metrics: GatewayMetrics;
  log: Logger;
  /** The gateway closed `session` (it is gone from the node's sessions next). */
  closed: (session: ChannelSession) => void;
  /** `session` was written to (the node's send budget watches it again). */
  sent: (session: ChannelSession) => void;
};

/** Builds the options all sessions of one node share. */
export function sessionOptions(deps: SessionHooksDeps): ChannelOptions {
  const { config, history, metrics, log } = deps;
  const limit = config.historySize;
  return {
    sendBufferBytes: config.sendBufferBytes,
    inboundRate: config.inboundRate,
    onSend: deps.sent,
    onClose: (session, reason) => {
      metrics.evictions.inc({ reason });
      deps.closed(session);
    },
    fill: async (info, after): Promise<HistorySlice> => {
      const read = await deadline(
        history.read(info.user, after, limit),
        FILL_TIMEOUT_MS,
        "history read",
      );
      return historySlice(read, after, limit, info.device);
    },
    onWrite: (frame, live) => {
      metrics.delivered.inc();
      // Replayed history is as old as the gap it fills: not a latency.
      if (live) metrics.deliverySeconds.observe((Date.now() - frame.ts) / 1000);
    },
    onGap: (error) => {
      metrics.replayErrors.inc();
      log.warn("history unreadable for a gap: trying again", { error });
    },
    onBeyondHistory: (frames) => metrics.beyondHistory.inc(frames),
    onAnnounce: (announcement) =>
      metrics.announcements.inc({ type: announcement.type }),
    onDuplicate: () => metrics.duplicatesDropped.inc(),
  };
}
