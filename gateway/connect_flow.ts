/**
 * The connect flow of one socket: register the user when new on this node,
 * read history, send the welcome, replay what the device missed, go live.
 *
 * Registration comes before the history read: a push that the router routed
 * without this node was appended before the read, so the replay has it; a push
 * appended after the read is delivered live. Either way the session dedupes by
 * seq, so nothing is lost or doubled.
 *
 * When history cannot be read, a resuming client is told it stands where it
 * says (its `since` and `epoch`, `recovered: true`), so it keeps its seq
 * tracking instead of resetting and having the whole history replayed later;
 * the session starts at `since`, and the first message with a seq once
 * history is back shows the gap, which is filled from history then.
 *
 * @module
 */
import { isSplicableEntry } from "../shared/json_value.ts";
import type {
  History,
  HistoryEntry,
  HistoryRead,
} from "../shared/history/mod.ts";
import type { Logger } from "../shared/log.ts";
import { messageFrameJson } from "../shared/protocol.ts";
import type {
  ChannelSession,
  HistorySlice,
  OrderedFrame,
} from "./channel_session.ts";
import type { GatewayMetrics } from "./metrics.ts";

/** Where a reconnecting device left off (query `since` and `epoch`). */
export type Resume = { since: number | undefined; epoch: string | undefined };

/** What the connect flow needs from its node. */
export type ConnectDeps = {
  nodeId: string;
  history: History;
  historySize: number;
  /** Present when this is the user's first connection on the node. */
  register: (() => Promise<void>) | undefined;
  /** Looks in history for the session once, {@link CATCH_UP_MS} from now. */
  scheduleCatchUp: (session: ChannelSession) => void;
  log: Logger;
  metrics: GatewayMetrics;
};

/** Runs the connect flow; the session is live (or closed) when it resolves. */
export async function connectChannel(
  session: ChannelSession,
  resume: Resume,
  deps: ConnectDeps,
): Promise<void> {
  await deps.register?.();
  if (session.closed) return;
  const { user } = session.info;
  let state: ResumeState;
  try {
    state = await readHistory(
      deps.history,
      user,
      resume,
      deps.historySize,
      session.info.device,
    );
  } catch (error) {
    deps.metrics.replayErrors.inc();
    deps.log.warn("history read failed on connect", { error });
    state = unreadHistory(resume);
  }
  if (session.closed) return;
  session.sendFrame({
    type: "welcome",
    connId: session.info.connId,
    nodeId: deps.nodeId,
    userId: user,
    seq: state.welcome.seq,
    epoch: state.welcome.epoch,
    recovered: state.welcome.recovered,
  });
  const replayed = await session.goLive(
    { epoch: state.epoch, lastSeq: state.lastSeq, floor: state.floor },
    state.slice,
  );
  deps.metrics.replayed.inc(replayed);
  // A router whose route cache had not yet seen this node's registration
  // may have stored a push without delivering it here, after our history
  // read. Any later push reveals that gap; one look after the cache has
  // caught up covers the case with no later push.
  if (deps.register) deps.scheduleCatchUp(session);
}

/** Milliseconds after a first registration to look for pushes routed before it. */
export const CATCH_UP_MS = 1000;

/**
 * A history read as a slice for one connection's order: entries aimed at
 * another device of the user become skips, so the connection's seq moves
 * past them; `more` when the read stopped at its limit.
 */
export function historySlice(
  read: HistoryRead,
  after: number,
  limit: number,
  device: string | null,
): HistorySlice {
  return {
    epoch: read.epoch,
    seq: read.seq,
    after,
    frames: historyFrames(read.messages, device),
    more: limit > 0 && read.messages.length >= limit,
  };
}

/** History entries as frames for one connection (see {@link historySlice}). */
export function historyFrames(
  entries: readonly HistoryEntry[],
  device: string | null,
): OrderedFrame[] {
  return entries.map((entry) => {
    // An entry that is not one JSON value (written to Redis by someone
    // else) would rewrite the frame around it: its seq is passed, unsent.
    const splicable = isSplicableEntry(entry);
    return {
      seq: entry.seq,
      id: entry.id,
      ts: entry.ts,
      json: splicable ? messageFrameJson(entry, entry.dataJson) : "",
      skip: !splicable ||
        (entry.device !== undefined && entry.device !== device),
    };
  });
}

/** Where a connection starts: its welcome, the read it replays, the seq it stands at. */
type ResumeState = {
  /** What the welcome announces. */
  welcome: { epoch: string; seq: number; recovered: boolean };
  /** The epoch the connection starts in; undefined when unknown. */
  epoch: string | undefined;
  /** The seq the client stands at before the replay; undefined when unknown. */
  lastSeq: number | undefined;
  /** The history read to replay (entries after `lastSeq`); undefined when none. */
  slice: HistorySlice | undefined;
  /** A new device (no `since`) never had the seqs up to here. */
  floor?: number;
};

/**
 * Where a connection starts when history cannot be read: where the client
 * says it stands, taken on trust. A new client (no `since`) gets seq 0 and
 * no epoch, and the session takes the first seq it sees as its start.
 */
function unreadHistory({ since, epoch }: Resume): ResumeState {
  return {
    welcome: {
      epoch: epoch ?? "",
      seq: since ?? 0,
      recovered: since !== undefined,
    },
    epoch,
    lastSeq: since,
    slice: undefined,
  };
}

/**
 * Reads what a device missed. With no `since`, nothing is replayed. When the
 * epoch differs, or `since` is past the user's seq (it refers to another
 * epoch), the whole retained history is replayed from seq 0 and `recovered`
 * is false. When the history no longer reaches back to `since`, `recovered`
 * is false too, and the order announces the range that is gone.
 */
async function readHistory(
  history: History,
  user: string,
  resume: Resume,
  limit: number,
  device: string | null,
): Promise<ResumeState> {
  const { since, epoch } = resume;
  if (since === undefined) {
    const read = await history.read(user, 0, 0);
    return {
      welcome: { epoch: read.epoch, seq: read.seq, recovered: false },
      epoch: read.epoch,
      lastSeq: read.seq,
      slice: undefined,
      floor: read.seq,
    };
  }
  const read = await history.read(user, since, limit);
  if ((epoch !== undefined && epoch !== read.epoch) || since > read.seq) {
    const all = await history.read(user, 0, limit);
    return {
      welcome: { epoch: all.epoch, seq: all.seq, recovered: false },
      epoch: all.epoch,
      lastSeq: 0,
      slice: historySlice(all, 0, limit, device),
    };
  }
  const first = read.messages[0];
  const complete = since === read.seq || first?.seq === since + 1;
  return {
    welcome: { epoch: read.epoch, seq: read.seq, recovered: complete },
    epoch: read.epoch,
    lastSeq: since,
    slice: historySlice(read, since, limit, device),
  };
}
