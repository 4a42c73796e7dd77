/**
 * The {@link DeliveryOrder} options of one session: its own sink and the
 * node's shared limits and hooks, read through getters. An options object
 * with two closures (`read`, `onOverflow`) per session held ~250 bytes for
 * each connection's whole life; this holds two references.
 *
 * @module
 */
import type { ChannelOptions, ChannelSession } from "./channel_session.ts";
import type { DeliveryOrderOptions, HistorySlice } from "./delivery_order.ts";

/** See the module doc. */
export class SessionOrderOptions implements DeliveryOrderOptions {
  readonly sink: ChannelSession;
  readonly #options: ChannelOptions;

  constructor(session: ChannelSession, options: ChannelOptions) {
    this.sink = session;
    this.#options = options;
  }

  get maxQueueBytes(): number {
    return this.#options.sendBufferBytes;
  }

  get retryMs(): number | undefined {
    return this.#options.fillRetryMs;
  }

  get onDuplicate(): (() => void) | undefined {
    return this.#options.onDuplicate;
  }

  get onReadError(): ((error: unknown) => void) | undefined {
    return this.#options.onGap;
  }

  get onBeyondHistory(): ((frames: number) => void) | undefined {
    return this.#options.onBeyondHistory;
  }

  read(after: number): Promise<HistorySlice> {
    return this.#options.fill(this.sink.info, after);
  }

  /** The order's queue passed its budget: the session closes as slow. */
  onOverflow(): void {
    this.sink.close("slowConsumer");
  }
}
