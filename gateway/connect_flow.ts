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
import type { ChannelSession, PendingFrame } from "./channel_session.ts";
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
    state = await readHistory(deps.history, user, resume, deps.historySize);
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
    seq: state.read.seq,
    epoch: state.read.epoch,
    recovered: state.recovered,
  });
  const replay = historyFrames(state.read.messages, session.info.device);
  const replayed = await session.goLive(state.lastSeq, replay);
  deps.metrics.replayed.inc(replayed);
  if (deps.register) scheduleCatchUp(session);
}

/** Milliseconds after a first registration to look for pushes routed before it. */
export const CATCH_UP_MS = 1000;

/**
 * A router whose route cache had not yet seen this node's registration may
 * have stored a push without delivering it here, after our history read.
 * Any later push reveals that gap; one look after the cache has caught up
 * covers the case with no later push.
 */
function scheduleCatchUp(session: ChannelSession): void {
  const signal = session.closedSignal;
  const cancel = () => clearTimeout(timer);
  // The listener goes with the timer: left on the signal, it would hold a
  // closure for every connection's whole life.
  const timer = setTimeout(() => {
    signal.removeEventListener("abort", cancel);
    void session.catchUp();
  }, CATCH_UP_MS);
  signal.addEventListener("abort", cancel, { once: true });
}

/**
 * History entries as frames for one connection: messages aimed at another
 * device of the user become skips, so the connection's seq moves past them.
 */
export function historyFrames(
  entries: readonly HistoryEntry[],
  device: string | null,
): PendingFrame[] {
  return entries.map((entry) => {
    // An entry that is not one JSON value (written to Redis by someone
    // else) would rewrite the frame around it: its seq is passed, unsent.
    const splicable = isSplicableEntry(entry);
    return {
      seq: entry.seq,
      ts: entry.ts,
      json: splicable ? messageFrameJson(entry, entry.dataJson) : "",
      skip: !splicable ||
        (entry.device !== undefined && entry.device !== device),
    };
  });
}

/** Where a connection starts: its welcome, replay and the seq it stands at. */
type ResumeState = {
  read: HistoryRead;
  recovered: boolean;
  /** The seq the client has seen up to once the replay is written; undefined when unknown. */
  lastSeq: number | undefined;
};

/**
 * Where a connection starts when history cannot be read: where the client
 * says it stands, taken on trust. A new client (no `since`) gets seq 0 and
 * no epoch, and the session takes the first seq it sees as its start.
 */
function unreadHistory({ since, epoch }: Resume): ResumeState {
  return {
    read: { epoch: epoch ?? "", seq: since ?? 0, messages: [] },
    recovered: since !== undefined,
    lastSeq: since,
  };
}

/**
 * Reads what a device missed. With no `since`, nothing is replayed. When the
 * epoch differs, or `since` is past the user's seq (it refers to another
 * epoch), the whole retained history is replayed and `recovered` is false; it
 * is false too when the history no longer reaches back to `since`.
 */
async function readHistory(
  history: History,
  user: string,
  resume: Resume,
  limit: number,
): Promise<ResumeState> {
  const { since, epoch } = resume;
  if (since === undefined) {
    const read = await history.read(user, 0, 0);
    return { read, recovered: false, lastSeq: read.seq };
  }
  const read = await history.read(user, since, limit);
  if ((epoch !== undefined && epoch !== read.epoch) || since > read.seq) {
    const all = await history.read(user, 0, limit);
    return { read: all, recovered: false, lastSeq: 0 };
  }
  const first = read.messages[0];
  const complete = since === read.seq || first?.seq === since + 1;
  // Past a trimmed window the client can only be given what is retained.
  return { read, recovered: complete, lastSeq: complete ? since : 0 };
}
