/**
 * One client socket: the send path with its buffer budget, the inbound rate
 * limit, and the close handshake. The order of its messages (seq, dedupe,
 * gap reads, epoch changes) is a {@link DeliveryOrder}, which writes here.
 *
 * @module
 */
import {
  CLOSE,
  type CloseReason,
  type ServerFrame,
} from "../shared/protocol.ts";
import {
  type Announcement,
  DeliveryOrder,
  type HistorySlice,
  type OrderedFrame,
  type OrderSink,
  type StartPosition,
} from "./delivery_order.ts";
import { SessionOrderOptions } from "./_session_order.ts";

export type { HistorySlice, OrderedFrame } from "./delivery_order.ts";

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
  /** The socket's peer address, when the server knew it. */
  remoteAddress?: string;
};

/** Limits and hooks a session is built with. */
export type ChannelOptions = {
  /** Bytes that may wait in the socket's send buffer (and the session's queue). */
  sendBufferBytes: number;
  /** Client frames per second; bursts of twice that pass. */
  inboundRate: number;
  /** Called once when the gateway closes this session, with the reason. */
  onClose: (session: ChannelSession, reason: CloseReason) => void;
  /**
   * The socket's events (the session is their listener object, see
   * {@link ChannelSession.handleEvent}): one function for every session of
   * a node instead of closures per socket.
   */
  onSocketEvent?: (session: ChannelSession, event: Event) => void;
  /** Reads the connection's user's history after a seq, as frames (device-filtered into skips). */
  fill: (info: ChannelInfo, after: number) => Promise<HistorySlice>;
  /** Called after each frame is written; `live` is false for history. */
  onWrite?: (frame: OrderedFrame, live: boolean) => void;
  /**
   * Called whenever this session sends or queues anything: its buffered
   * bytes may have grown. One function for every session of a node.
   */
  onSend?: (session: ChannelSession) => void;
  /** Called for each frame dropped because this connection already had it. */
  onDuplicate?: () => void;
  /** Called when history could not be read for a gap (it is tried again). */
  onGap?: (error: unknown) => void;
  /** Called when frames history never held were dropped (see DeliveryOrder). */
  onBeyondHistory?: (frames: number) => void;
  /** Called for each gap or reset frame sent. */
  onAnnounce?: (announcement: Announcement) => void;
  /**
   * Milliseconds to wait after a failed gap read before the next, doubling
   * each time up to 5 s.
   * @default 250
   */
  fillRetryMs?: number;
  now?: () => number;
};

const OPEN = 1;
/** Malformed frames a client may send before it is closed with 1008. */
const MAX_STRIKES = 5;
/** Longest a replay waits for a full send buffer to drain before closing as slow. */
const DRAIN_WAIT_MS = 10_000;

/**
 * One WebSocket connection of a user on this node. It is the listener
 * object of its socket's events (`socket.addEventListener("open", session)`),
 * which go to the node's `onSocketEvent`.
 */
export class ChannelSession implements OrderSink, EventListenerObject {
  readonly info: ChannelInfo;
  readonly #socket: SessionSocket;
  readonly #options: ChannelOptions;
  readonly #order: DeliveryOrder;
  /**
   * The inbound rate limit, a token bucket kept in two fields (`inboundRate`
   * a second, bursts of twice that): an object of its own per socket cost
   * every idle connection ~100 bytes.
   */
  #inboundTokens: number;
  #inboundAt: number;
  #strikes = 0;
  /**
   * Made on first ask (only drain waits on it): a resolver pair per socket
   * is three objects every connection would hold for its whole life.
   */
  #ended: PromiseWithResolvers<void> | undefined;
  #socketGone = false;
  /**
   * At least the socket's `bufferedAmount`: its last reading plus three bytes
   * (UTF-8's most) per UTF-16 unit sent since. Only this session's sends make
   * the buffer grow (Deno's own pings and pongs are not counted in it), so
   * while this bound leaves room for a frame the write needs no reading of
   * the socket, a call into the runtime that was ~15% of a broadcast's CPU.
   */
  #bufferedBound = 0;

  constructor(
    info: ChannelInfo,
    socket: SessionSocket,
    options: ChannelOptions,
  ) {
    this.info = info;
    this.#socket = socket;
    this.#options = options;
    this.#inboundTokens = options.inboundRate * 2;
    this.#inboundAt = this.#now();
    this.#order = new DeliveryOrder(new SessionOrderOptions(this, options));
  }

  /** True once closed by either side; the order stops with the session. */
  get closed(): boolean {
    return this.#order.stopped;
  }

  /** An event of the session's socket: handed to the node's `onSocketEvent`. */
  handleEvent(event: Event): void {
    this.#options.onSocketEvent?.(this, event);
  }

  get live(): boolean {
    return this.#order.live;
  }

  get lastSeq(): number | undefined {
    return this.#order.lastSeq;
  }

  get epoch(): string | undefined {
    return this.#order.epoch;
  }

  /** Bytes waiting to go out on this connection. */
  get bufferedBytes(): number {
    return this.closed ? 0 : this.#readBuffered() + this.#order.queuedBytes;
  }

  /**
   * At least {@link bufferedBytes}, without asking the socket: a node's
   * budget check sums these first and reads sockets only when the sum could
   * be over.
   */
  get bufferedBytesBound(): number {
    return this.closed ? 0 : this.#bufferedBound + this.#order.queuedBytes;
  }

  /**
   * Hands a message to the connection (see {@link DeliveryOrder.deliver}).
   * Returns true unless dropped or the session is closed.
   */
  deliver(frame: OrderedFrame): boolean {
    if (this.closed) return false;
    const accepted = this.#order.deliver(frame);
    // A written frame told the node already (write); a queued one did not.
    if (this.#order.queuedBytes > 0) this.#options.onSend?.(this);
    return accepted;
  }

  /** Sends a non-message frame (welcome, pong, error) right away. */
  sendFrame(frame: ServerFrame): void {
    if (this.closed || this.#socket.readyState !== OPEN) return;
    this.#send(JSON.stringify(frame));
  }

  /**
   * Starts the live phase at the position the welcome announced, with the
   * history read of the connect flow (undefined when it could not read).
   * Resolves with the number of history messages written.
   */
  goLive(
    position: StartPosition,
    slice: HistorySlice | undefined,
  ): Promise<number> {
    return this.#order.start(position, slice);
  }

  /**
   * Looks for messages this connection missed with nothing after them to
   * reveal the gap (a push routed before the router knew this node).
   */
  catchUp(): Promise<void> {
    return this.#order.catchUp();
  }

  /** Resolves once no replay or gap read is running. */
  idle(): Promise<void> {
    return this.#order.idle();
  }

  /**
   * Accounts one inbound frame against the rate limit. Returns false (after
   * closing with 1008) when the client sends faster than allowed.
   */
  admitInbound(): boolean {
    const now = this.#now();
    const rate = this.#options.inboundRate;
    const tokens = Math.min(
      rate * 2,
      this.#inboundTokens + ((now - this.#inboundAt) / 1000) * rate,
    );
    this.#inboundAt = now;
    if (tokens >= 1) {
      this.#inboundTokens = tokens - 1;
      return true;
    }
    this.#inboundTokens = tokens;
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
    this.#order.stop();
  }

  /** {@link OrderSink}: writes one message frame within the buffer budget. */
  write(frame: OrderedFrame, live: boolean): boolean {
    if (this.closed || this.#socket.readyState !== OPEN) return false;
    const limit = this.#options.sendBufferBytes;
    const length = frame.json.length;
    // The same rule as reading the socket every time (buffered + length over
    // the limit closes), read only when the bound says it could apply.
    if (
      this.#bufferedBound + 3 * length > limit &&
      this.#readBuffered() + length > limit
    ) {
      this.close("slowConsumer");
      return false;
    }
    this.#send(frame.json);
    this.#options.onWrite?.(frame, live);
    return true;
  }

  /** {@link OrderSink}: sends a gap or reset frame. */
  announce(announcement: Announcement): void {
    if (this.closed || this.#socket.readyState !== OPEN) return;
    this.#send(JSON.stringify(announcement));
    this.#options.onAnnounce?.(announcement);
  }

  /** {@link OrderSink}: waits while the send buffer is over half the budget. */
  room(): Promise<void> | undefined {
    const half = this.#options.sendBufferBytes / 2;
    if (this.#bufferedBound <= half || this.#readBuffered() <= half) {
      return undefined;
    }
    return this.#drained();
  }

  /** Sends `json` and counts it into the bound; the node learns of the bytes. */
  #send(json: string): void {
    this.#socket.send(json);
    this.#bufferedBound += 3 * json.length;
    this.#options.onSend?.(this);
  }

  /** Reads the socket's buffered bytes, which resets the bound to them. */
  #readBuffered(): number {
    return this.#bufferedBound = this.#socket.bufferedAmount;
  }

  /** Resolves when the send buffer is below half the budget; closes as slow after 10 s. */
  async #drained(): Promise<void> {
    const deadline = this.#now() + DRAIN_WAIT_MS;
    while (
      !this.closed &&
      this.#readBuffered() > this.#options.sendBufferBytes / 2
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
