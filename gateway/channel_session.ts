/**
 * One client socket: the send path with its buffer budget, and the per-user
 * `seq` order on this connection. Every message with a seq is written once,
 * in seq order: a duplicate is dropped, and a message that arrives past a gap
 * (pushes racing through routers, a route cache that had not seen this node
 * yet) waits while the gap is filled from history.
 *
 * @module
 */
import { TokenBucket } from "../shared/token_bucket.ts";
import {
  CLOSE,
  type CloseReason,
  type ServerFrame,
} from "../shared/protocol.ts";

/** What a ChannelSession needs from the socket; a Deno `WebSocket` fits. */
export interface SessionSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Identity of a connection, fixed at connect time. */
export type ChannelInfo = {
  connId: string;
  user: string;
  device: string | null;
  connectedAt: number;
};

/**
 * A frame waiting in, or leaving, a session; `seq` is undefined for
 * broadcasts. A `skip` frame carries a seq meant for another device of the
 * user: nothing is written, but the connection's seq moves past it.
 */
export type PendingFrame = {
  seq: number | undefined;
  json: string;
  ts: number;
  skip?: boolean;
};

/** Limits and hooks a session is built with. */
export type ChannelOptions = {
  /** Bytes that may wait in the socket's send buffer (and the session's queue). */
  sendBufferBytes: number;
  /** Client frames per second; bursts of twice that pass. */
  inboundRate: number;
  /** Called once when the gateway closes this session, with the reason. */
  onClose: (session: ChannelSession, reason: CloseReason) => void;
  /** Reads this user's history after a seq, as frames (device-filtered into skips). */
  fill: (after: number) => Promise<PendingFrame[]>;
  /** Called after each frame is written; `live` is false for history. */
  onWrite?: (frame: PendingFrame, live: boolean) => void;
  /** Called for each frame dropped because its seq was already written. */
  onDuplicate?: () => void;
  /** Called when history could not be read to fill a gap. */
  onGap?: (error: unknown) => void;
  /**
   * Milliseconds to wait after a failed gap read before the next, doubling
   * each time: a message that was only overtaken may still come live.
   * @default 250
   */
  fillRetryMs?: number;
  now?: () => number;
};

const OPEN = 1;
/** Malformed frames a client may send before it is closed with 1008. */
const MAX_STRIKES = 5;
/** History reads one release may make before it passes a gap over. */
const MAX_FILLS = 3;

/** One WebSocket connection of a user on this node. */
export class ChannelSession {
  readonly info: ChannelInfo;
  readonly #socket: SessionSocket;
  readonly #options: ChannelOptions;
  readonly #closed = new AbortController();
  /** "starting" until the welcome and replay are out; "filling" while a gap is read. */
  #mode: "starting" | "live" | "filling" = "starting";
  /** Highest seq this connection has passed; undefined when its start is unknown. */
  #lastSeq: number | undefined;
  /** Frames waiting for the replay or a gap fill, in arrival order. */
  #queue: PendingFrame[] = [];
  #queueBytes = 0;
  readonly #inbound: TokenBucket;
  #strikes = 0;
  #filling: Promise<void> | undefined;
  /**
   * Made on first ask (only drain waits on it): a resolver pair per socket
   * is three objects every connection would hold for its whole life.
   */
  #ended: PromiseWithResolvers<void> | undefined;
  #socketGone = false;

  constructor(
    info: ChannelInfo,
    socket: SessionSocket,
    options: ChannelOptions,
  ) {
    this.info = info;
    this.#socket = socket;
    this.#options = options;
    this.#inbound = new TokenBucket({
      rate: options.inboundRate,
      burst: options.inboundRate * 2,
      now: options.now,
    });
  }

  get closed(): boolean {
    return this.#closed.signal.aborted;
  }

  /** Aborts when the session closes, for timers tied to it. */
  get closedSignal(): AbortSignal {
    return this.#closed.signal;
  }

  get live(): boolean {
    return this.#mode !== "starting";
  }

  get lastSeq(): number | undefined {
    return this.#lastSeq;
  }

  /** Bytes waiting to go out on this connection. */
  get bufferedBytes(): number {
    return this.closed ? 0 : this.#socket.bufferedAmount + this.#queueBytes;
  }

  /**
   * Hands a message to the connection. It is written now when it is next in
   * seq order, dropped when already written, and queued behind a replay or a
   * gap fill otherwise. Returns true unless dropped or the session is closed.
   */
  deliver(frame: PendingFrame): boolean {
    if (this.closed) return false;
    if (this.#mode !== "live") return this.#enqueue(frame);
    const seq = frame.seq;
    if (seq !== undefined && this.#lastSeq !== undefined) {
      if (seq <= this.#lastSeq) {
        if (!frame.skip) this.#options.onDuplicate?.();
        return false;
      }
      if (seq > this.#lastSeq + 1) {
        this.#enqueue(frame);
        void this.#fillGap();
        return true;
      }
    }
    return this.#write(frame, true);
  }

  /** Sends a non-message frame (welcome, pong, error) right away. */
  sendFrame(frame: ServerFrame): void {
    if (this.closed || this.#socket.readyState !== OPEN) return;
    this.#socket.send(JSON.stringify(frame));
  }

  /**
   * Starts the live phase: `lastSeq` is where the client stands (undefined
   * when unknown), `replay` the history it missed. Writes the replay, then
   * what arrived meanwhile, in seq order; waits for the socket to drain when
   * the replay outgrows half the budget. Returns the frames replayed.
   */
  async goLive(
    lastSeq: number | undefined,
    replay: readonly PendingFrame[],
  ): Promise<number> {
    this.#lastSeq = lastSeq;
    const replayed = await this.#writeInOrder(replay, false);
    await this.#release();
    return replayed;
  }

  /**
   * Looks for messages this connection missed with nothing after them to
   * reveal the gap (a push routed before the router knew this node).
   */
  catchUp(): Promise<void> {
    if (this.#mode !== "live") return this.idle();
    this.#mode = "filling";
    this.#filling = (async () => {
      await this.#writeInOrder(await this.#readGap() ?? [], false);
      await this.#release();
    })().finally(() => this.#filling = undefined);
    return this.#filling;
  }

  /** Resolves once no gap fill is running. */
  idle(): Promise<void> {
    return this.#filling ?? Promise.resolve();
  }

  /**
   * Accounts one inbound frame against the rate limit. Returns false (after
   * closing with 1008) when the client sends faster than allowed.
   */
  admitInbound(): boolean {
    if (this.#inbound.take()) return true;
    this.close("policy");
    return false;
  }

  /** Counts a malformed frame; the client is closed with 1008 after a few. */
  strike(): boolean {
    this.#strikes += 1;
    if (this.#strikes >= MAX_STRIKES) {
      this.close("policy");
      return false;
    }
    return true;
  }

  /** Closes the socket with the code of `reason`; later calls do nothing. */
  close(reason: CloseReason): void {
    if (this.closed) return;
    this.markClosed();
    const { code, reason: text } = CLOSE[reason];
    try {
      this.#socket.close(code, text);
    } catch {
      // Already closing or closed by the peer: the close event follows anyway.
    }
    this.#options.onClose(this, reason);
  }

  /** Resolves once the socket has really closed (its close event fired). */
  get ended(): Promise<void> {
    if (this.#socketGone) return Promise.resolve();
    this.#ended ??= Promise.withResolvers<void>();
    return this.#ended.promise;
  }

  /** The socket's close event: the session is closed and the socket gone. */
  socketEnded(): void {
    this.markClosed();
    this.#socketGone = true;
    this.#ended?.resolve();
  }

  /** Marks a session whose socket the peer closed; no close frame is sent. */
  markClosed(): void {
    this.#closed.abort();
    this.#queue = [];
    this.#queueBytes = 0;
  }

  /** Writes the queue, filling the gap it starts with from history. */
  #fillGap(): Promise<void> {
    if (this.#mode !== "live") return this.idle();
    this.#mode = "filling";
    this.#filling = this.#release().finally(() => this.#filling = undefined);
    return this.#filling;
  }

  /**
   * Writes the queue in seq order, then goes live. Where the next queued
   * frame is past a gap, the gap is read from history first; a gap still
   * there after a few reads is one history no longer holds (trimmed,
   * expired, unreachable) and is passed over.
   */
  async #release(): Promise<void> {
    let fills = 0;
    while (this.#queue.length > 0 && !this.closed) {
      const queue = sortBySeq(this.#queue);
      this.#queue = [];
      this.#queueBytes = 0;
      for (let i = 0; i < queue.length && !this.closed; i++) {
        const frame = queue[i]!;
        if (this.#isGapBefore(frame) && fills < MAX_FILLS) {
          fills++;
          this.#requeue(queue.slice(i));
          const filled = await this.#readGap();
          if (filled) await this.#writeInOrder(filled, false);
          else await this.#pause(this.#fillRetryMs * 2 ** (fills - 1));
          break;
        }
        await this.#writeInOrder([frame], true);
      }
    }
    if (!this.closed) this.#mode = "live";
  }

  /** History after `lastSeq`; undefined when it cannot be read. */
  async #readGap(): Promise<PendingFrame[] | undefined> {
    if (this.#lastSeq === undefined) return [];
    try {
      return await this.#options.fill(this.#lastSeq);
    } catch (error) {
      // History is unreachable: after a few tries the queued frames go out
      // past the gap rather than wait for a backend down for minutes.
      this.#options.onGap?.(error);
      return undefined;
    }
  }

  /** Waits `ms`, or less if the session closes. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#closed.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#closed.signal.addEventListener("abort", done);
    });
  }

  get #fillRetryMs(): number {
    return this.#options.fillRetryMs ?? 250;
  }

  #isGapBefore(frame: PendingFrame): boolean {
    return frame.seq !== undefined && this.#lastSeq !== undefined &&
      frame.seq > this.#lastSeq + 1;
  }

  /** Puts frames back at the head of the queue (they were taken from it). */
  #requeue(frames: PendingFrame[]): void {
    this.#queue = [...frames, ...this.#queue];
    for (const frame of frames) this.#queueBytes += frame.json.length;
  }

  /** Writes frames whose seq is past `lastSeq`, sorted by seq (broadcasts in place). */
  async #writeInOrder(
    frames: readonly PendingFrame[],
    live: boolean,
  ): Promise<number> {
    let written = 0;
    for (const frame of sortBySeq(frames)) {
      if (this.closed) break;
      if (
        frame.seq !== undefined && this.#lastSeq !== undefined &&
        frame.seq <= this.#lastSeq
      ) {
        if (live && !frame.skip) this.#options.onDuplicate?.();
        continue;
      }
      if (this.#socket.bufferedAmount > this.#options.sendBufferBytes / 2) {
        await this.#drained();
      }
      if (this.#write(frame, live)) written++;
    }
    return written;
  }

  #enqueue(frame: PendingFrame): boolean {
    this.#queueBytes += frame.json.length;
    if (this.#queueBytes > this.#options.sendBufferBytes) {
      this.close("slowConsumer");
      return false;
    }
    this.#queue.push(frame);
    return true;
  }

  #write(frame: PendingFrame, live: boolean): boolean {
    if (frame.seq !== undefined) this.#lastSeq = frame.seq;
    if (frame.skip) return false;
    if (this.#socket.readyState !== OPEN) return false;
    if (
      this.#socket.bufferedAmount + frame.json.length >
        this.#options.sendBufferBytes
    ) {
      this.close("slowConsumer");
      return false;
    }
    this.#socket.send(frame.json);
    this.#options.onWrite?.(frame, live);
    return true;
  }

  /** Resolves when the send buffer is below half the budget; closes as slow after 10 s. */
  async #drained(): Promise<void> {
    const deadline = this.#now() + 10_000;
    while (
      !this.closed &&
      this.#socket.bufferedAmount > this.#options.sendBufferBytes / 2
    ) {
      if (this.#now() > deadline) {
        this.close("slowConsumer");
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }
}

/**
 * Orders frames by seq while keeping each broadcast (no seq) after the
 * frames that arrived before it: a stable sort of the seq frames only.
 */
function sortBySeq(frames: readonly PendingFrame[]): PendingFrame[] {
  const seqFrames = frames.filter((f) => f.seq !== undefined).sort((a, b) =>
    a.seq! - b.seq!
  );
  let next = 0;
  return frames.map((f) => f.seq === undefined ? f : seqFrames[next++]!);
}
