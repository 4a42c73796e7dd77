/**
 * One client socket: the send path with its buffer budget, per-connection
 * dedupe by seq, the replay-then-live switch, and inbound limits.
 *
 * @module
 */
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

/** Limits and hooks a session is built with. */
export type ChannelOptions = {
  /** Bytes that may wait in the socket's send buffer (and the replay queue). */
  sendBufferBytes: number;
  /** Client frames per second; bursts of twice that pass. */
  inboundRate: number;
  /** Called once when the gateway closes this session, with the reason. */
  onClose: (session: ChannelSession, reason: CloseReason) => void;
  /** Called after each frame is written. */
  onWrite?: (frame: PendingFrame) => void;
  /** Called for each frame dropped because its seq was already written. */
  onDuplicate?: () => void;
  now?: () => number;
};

/** A frame waiting in, or leaving, a session; `seq` undefined for broadcasts. */
export type PendingFrame = {
  seq: number | undefined;
  json: string;
  ts: number;
};

const OPEN = 1;
/** Malformed frames a client may send before it is closed with 1008. */
const MAX_STRIKES = 5;

/** One WebSocket connection of a user on this node. */
export class ChannelSession {
  readonly info: ChannelInfo;
  readonly #socket: SessionSocket;
  readonly #options: ChannelOptions;
  #live = false;
  #closed = false;
  /** Highest seq written on this connection: nothing at or below is written again. */
  #lastSeq = 0;
  /** Frames that arrived while history was replaying, in arrival order. */
  #pending: PendingFrame[] = [];
  #pendingBytes = 0;
  #tokens: number;
  #refilledAt: number;
  #strikes = 0;

  constructor(
    info: ChannelInfo,
    socket: SessionSocket,
    options: ChannelOptions,
  ) {
    this.info = info;
    this.#socket = socket;
    this.#options = options;
    this.#tokens = options.inboundRate * 2;
    this.#refilledAt = this.#now();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get live(): boolean {
    return this.#live;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Bytes waiting to go out on this connection. */
  get bufferedBytes(): number {
    return this.#closed ? 0 : this.#socket.bufferedAmount + this.#pendingBytes;
  }

  /**
   * Hands a message to the connection. Before {@link goLive} it waits in the
   * replay queue; afterwards it is written unless its seq was already written.
   * Returns true when the frame was written or queued.
   */
  deliver(frame: PendingFrame): boolean {
    if (this.#closed) return false;
    if (!this.#live) {
      this.#pendingBytes += frame.json.length;
      if (this.#pendingBytes > this.#options.sendBufferBytes) {
        this.close("slowConsumer");
        return false;
      }
      this.#pending.push(frame);
      return true;
    }
    return this.#write(frame);
  }

  /** Sends a non-message frame (welcome, pong, error) right away. */
  sendFrame(frame: ServerFrame): void {
    if (this.#closed || this.#socket.readyState !== OPEN) return;
    this.#socket.send(JSON.stringify(frame));
  }

  /**
   * Writes the replayed history, then everything queued meanwhile, and from
   * then on writes deliveries directly. Duplicates by seq are dropped, so a
   * message both replayed and delivered live reaches the client once.
   * Waits for the socket to drain when the replay outgrows half the budget.
   */
  async goLive(replay: readonly PendingFrame[]): Promise<number> {
    let replayed = 0;
    for (const frame of replay) {
      if (this.#closed) return replayed;
      if (this.#socket.bufferedAmount > this.#options.sendBufferBytes / 2) {
        await this.#drained();
      }
      if (this.#write(frame)) replayed++;
    }
    // Frames keep arriving while we await the drain above; take them in turn.
    while (this.#pending.length > 0 && !this.#closed) {
      const frame = this.#pending.shift()!;
      this.#pendingBytes -= frame.json.length;
      this.#write(frame);
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#live = true;
    return replayed;
  }

  /**
   * Accounts one inbound frame against the rate limit. Returns false (after
   * closing with 1008) when the client sends faster than allowed.
   */
  admitInbound(): boolean {
    const now = this.#now();
    const rate = this.#options.inboundRate;
    this.#tokens = Math.min(
      rate * 2,
      this.#tokens + ((now - this.#refilledAt) / 1000) * rate,
    );
    this.#refilledAt = now;
    if (this.#tokens < 1) {
      this.close("policy");
      return false;
    }
    this.#tokens -= 1;
    return true;
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
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    const { code, reason: text } = CLOSE[reason];
    try {
      this.#socket.close(code, text);
    } catch {
      // Already closing or closed by the peer: the close event follows anyway.
    }
    this.#options.onClose(this, reason);
  }

  /** Marks a session whose socket the peer closed; no close frame is sent. */
  markClosed(): void {
    this.#closed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  #write(frame: PendingFrame): boolean {
    if (frame.seq !== undefined) {
      if (frame.seq <= this.#lastSeq) {
        this.#options.onDuplicate?.();
        return false;
      }
    }
    if (this.#socket.readyState !== OPEN) return false;
    if (
      this.#socket.bufferedAmount + frame.json.length >
        this.#options.sendBufferBytes
    ) {
      this.close("slowConsumer");
      return false;
    }
    this.#socket.send(frame.json);
    if (frame.seq !== undefined) this.#lastSeq = frame.seq;
    this.#options.onWrite?.(frame);
    return true;
  }

  /** Resolves when the send buffer is below half the budget; closes as slow after 10 s. */
  async #drained(): Promise<void> {
    const deadline = this.#now() + 10_000;
    while (
      !this.#closed &&
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
