/**
 * The frames one connection's {@link DeliveryOrder} holds back (behind its
 * replay, a gap read or an epoch change), with their bytes and the order
 * they arrived in, so a history read knows which of them it has seen past.
 *
 * @module
 */
/** What the queue reads of a frame (a DeliveryOrder's OrderedFrame). */
export type QueueFrame = {
  seq: number | undefined;
  epoch?: string;
  json: string;
};

/** A held frame and when it arrived, counted per connection. */
export type Queued<F extends QueueFrame> = F & { arrival: number };

/** See the module doc. */
export class OrderQueue<F extends QueueFrame> {
  #frames: Queued<F>[] = [];
  #bytes = 0;
  #arrivals = 0;

  /** Bytes of the frames held. */
  get bytes(): number {
    return this.#bytes;
  }

  get length(): number {
    return this.#frames.length;
  }

  /** Arrivals so far: a read started now has seen past every frame below it. */
  get mark(): number {
    return this.#arrivals;
  }

  /** Holds a frame that has just arrived; returns the bytes now held. */
  push(frame: F): number {
    this.#frames.push({ ...frame, arrival: this.#arrivals++ });
    this.#bytes += frame.json.length;
    return this.#bytes;
  }

  /** Holds a frame again that {@link take} gave out. */
  putBack(frame: Queued<F>): void {
    this.#frames.push(frame);
    this.#bytes += frame.json.length;
  }

  /**
   * Empties the queue and returns its frames: those with a seq by seq
   * (frames of `epoch`, or of no known epoch, before others), live-only ones
   * in their arrival place.
   */
  take(epoch: string | undefined): Queued<F>[] {
    const frames = this.#frames;
    this.#frames = [];
    this.#bytes = 0;
    const rank = (f: Queued<F>) =>
      f.epoch === undefined || f.epoch === epoch ? 0 : 1;
    const seqFrames = frames.filter((f) => f.seq !== undefined).sort((a, b) =>
      rank(a) - rank(b) || a.seq! - b.seq! || a.arrival - b.arrival
    );
    let next = 0;
    return frames.map((f) => f.seq === undefined ? f : seqFrames[next++]!);
  }

  /** The frame with the lowest seq of `epoch` (or of no known epoch), if any. */
  first(epoch: string | undefined): Queued<F> | undefined {
    let first: Queued<F> | undefined;
    for (const f of this.#frames) {
      if (f.seq === undefined || (f.epoch !== undefined && f.epoch !== epoch)) {
        continue;
      }
      if (!first || f.seq < first.seq!) first = f;
    }
    return first;
  }

  /**
   * Drops frames of an epoch other than `epoch` that arrived before `mark`:
   * a read started then showed their history gone.
   */
  dropDead(epoch: string, mark: number): void {
    this.#dropWhere(
      epoch,
      (f) =>
        f.seq !== undefined && f.epoch !== undefined && f.epoch !== epoch &&
        f.arrival < mark,
    );
  }

  /**
   * Drops frames of `epoch` with a seq above `seq` that arrived before
   * `mark`: a read started then showed history never held them (a forged
   * delivery, or an append a Redis failover lost). Returns how many.
   */
  dropBeyond(epoch: string, seq: number, mark: number): number {
    return this.#dropWhere(
      epoch,
      (f) =>
        f.seq !== undefined && f.seq > seq && f.arrival < mark &&
        (f.epoch === undefined || f.epoch === epoch),
    );
  }

  /** Drops the frames `doomed` picks (keeping the rest in order); returns how many. */
  #dropWhere(
    epoch: string,
    doomed: (frame: Queued<F>) => boolean,
  ): number {
    if (!this.#frames.some(doomed)) return 0;
    let dropped = 0;
    for (const frame of this.take(epoch)) {
      if (doomed(frame)) dropped++;
      else this.putBack(frame);
    }
    return dropped;
  }

  clear(): void {
    this.#frames = [];
    this.#bytes = 0;
  }
}
