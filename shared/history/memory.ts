/**
 * In-memory history: the embedded default and the unit-test backend. A
 * restarted process starts every user on a new epoch.
 *
 * @module
 */
import type {
  Appended,
  History,
  HistoryEntry,
  HistoryOptions,
  HistoryRead,
  NewMessage,
  Reservation,
} from "./history.ts";

type UserLog = {
  epoch: string;
  seq: number;
  entries: HistoryEntry[];
  expiresAt: number;
  /** Seqs of the retained entries appended with a dedupe key, by key. */
  known?: Map<string, number>;
  /** The dedupe key of those entries, by seq (to forget it on trim). */
  keyOf?: Map<number, string>;
};

type IdRecord = { answer?: unknown; expiresAt: number };

/** A {@link History} kept in process memory. */
export class MemoryHistory implements History {
  readonly #size: number;
  readonly #ttlMs: number;
  readonly #reservationMs: number;
  readonly #now: () => number;
  readonly #users = new Map<string, UserLog>();
  readonly #ids = new Map<string, IdRecord>();
  #nextSweep = 0;

  constructor(options: HistoryOptions, now: () => number = Date.now) {
    this.#size = options.size;
    this.#ttlMs = options.ttl * 1000;
    this.#reservationMs = (options.reservationTtl ?? 30) * 1000;
    this.#now = now;
  }

  append(users: readonly string[], message: NewMessage): Promise<Appended[]> {
    this.#sweep();
    const now = this.#now();
    const { dedupeKey, ...entry } = message;
    const appended = users.map((user) => {
      const log = this.#log(user, now);
      const known = dedupeKey === undefined
        ? undefined
        : log.known?.get(dedupeKey);
      if (known !== undefined) return { seq: known, epoch: log.epoch };
      log.seq += 1;
      log.entries.push({ ...entry, seq: log.seq });
      if (dedupeKey !== undefined) {
        (log.known ??= new Map()).set(dedupeKey, log.seq);
        (log.keyOf ??= new Map()).set(log.seq, dedupeKey);
      }
      if (log.entries.length > this.#size) {
        const evicted = log.entries.splice(
          0,
          log.entries.length - this.#size,
        );
        for (const old of evicted) {
          const key = log.keyOf?.get(old.seq);
          if (key === undefined) continue;
          log.keyOf!.delete(old.seq);
          log.known!.delete(key);
        }
      }
      log.expiresAt = now + this.#ttlMs;
      return { seq: log.seq, epoch: log.epoch };
    });
    return Promise.resolve(appended);
  }

  read(user: string, after: number, limit: number): Promise<HistoryRead> {
    const log = this.#log(user, this.#now());
    const start = log.entries.findIndex((entry) => entry.seq > after);
    const messages = start === -1
      ? []
      : log.entries.slice(start, start + limit);
    return Promise.resolve({ epoch: log.epoch, seq: log.seq, messages });
  }

  reserve(id: string): Promise<Reservation> {
    const now = this.#now();
    const record = this.#ids.get(id);
    if (record && record.expiresAt > now) {
      return Promise.resolve(
        "answer" in record
          ? { state: "done", answer: record.answer }
          : { state: "pending" },
      );
    }
    this.#ids.set(id, { expiresAt: now + this.#reservationMs });
    return Promise.resolve({ state: "reserved" });
  }

  complete(id: string, answer: unknown): Promise<void> {
    this.#ids.set(id, { answer, expiresAt: this.#now() + this.#ttlMs });
    return Promise.resolve();
  }

  release(id: string): Promise<void> {
    // Only a pending reservation is given up: a finished push keeps its answer.
    const record = this.#ids.get(id);
    if (record && !("answer" in record)) this.#ids.delete(id);
    return Promise.resolve();
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return Promise.resolve();
  }

  /** The user's log, started afresh on a new epoch when absent or expired. */
  #log(user: string, now: number): UserLog {
    let log = this.#users.get(user);
    if (!log || log.expiresAt <= now) {
      log = {
        epoch: crypto.randomUUID(),
        seq: 0,
        entries: [],
        expiresAt: now + this.#ttlMs,
      };
      this.#users.set(user, log);
    }
    return log;
  }

  /** Drops expired users and ids, at most once a minute, so memory stays bounded by the TTL. */
  #sweep(): void {
    const now = this.#now();
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + 60_000;
    for (const [user, log] of this.#users) {
      if (log.expiresAt <= now) this.#users.delete(user);
    }
    for (const [id, record] of this.#ids) {
      if (record.expiresAt <= now) this.#ids.delete(id);
    }
  }
}
