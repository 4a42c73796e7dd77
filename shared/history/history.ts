/**
 * The history seam: a short per-user log of pushed messages, so a device that
 * reconnects with `since` resumes where it stopped. Backends:
 * {@link MemoryHistory} (embedded, unit tests), RedisHistory.
 *
 * @module
 */

/**
 * One retained message; `dataJson` is the pushed `data` serialized once;
 * `device`, when set, limits the message to connections with that label.
 */
export type HistoryEntry = {
  seq: number;
  id: string;
  ts: number;
  dataJson: string;
  device?: string;
};

/** A message as it is appended (the seq is assigned by the history). */
export type NewMessage = {
  id: string;
  ts: number;
  dataJson: string;
  device?: string;
  /**
   * Set when the push may come again (a retry after a crash): a user whose
   * current epoch already holds a message appended with this key gets that
   * message's seq back and nothing is appended for that user. The caller
   * scopes it (the router: API key, route and push id).
   */
  dedupeKey?: string;
};

/** Where one user's copy of an appended message sits: its seq in an epoch. */
export type Appended = { seq: number; epoch: string };

/** What {@link History.read} returns: the user's state and the entries after `after`. */
export type HistoryRead = {
  /** Random id of this incarnation of the user's seq; changes when seq could restart. */
  epoch: string;
  /** Latest seq of the user; 0 when the user has no history. */
  seq: number;
  /** Entries with `seq > after`, oldest first, at most `limit`. */
  messages: HistoryEntry[];
};

/** Outcome of {@link History.reserve}. */
export type Reservation =
  /** The id is new: push, then `complete` (or `release` on failure). */
  | { state: "reserved" }
  /** The id was pushed before: here is its answer. */
  | { state: "done"; answer: unknown }
  /** Another request is pushing this id right now. */
  | { state: "pending" };

/** Per-user message history with idempotency by push id. */
export interface History extends AsyncDisposable {
  /**
   * Appends one message to the history of each user and returns the seq given
   * to each with the epoch it belongs to, in the order of `users`. Seqs are
   * strictly increasing per user within an epoch and assigned atomically per
   * user; every user is trimmed to the configured size and expires after the
   * configured TTL with no append, after which a new epoch starts at seq 1.
   * With `message.dedupeKey`, a key already in a user's epoch is not
   * appended again: its earlier seq is returned.
   *
   * @throws {PartialAppendError} when the message was stored for some users
   * only (each user is appended on its own); it holds their seqs.
   * @throws {UnavailableError} when it was stored for none.
   */
  append(users: readonly string[], message: NewMessage): Promise<Appended[]>;
  /** The user's epoch and latest seq, and the retained entries after `after`. */
  read(user: string, after: number, limit: number): Promise<HistoryRead>;
  /**
   * Claims a push id for the history TTL. Exactly one of concurrent callers
   * gets `reserved`; an unfinished reservation lapses after a short time.
   */
  reserve(id: string): Promise<Reservation>;
  /** Stores the answer of a reserved push id for the history TTL. */
  complete(id: string, answer: unknown): Promise<void>;
  /** Gives a reserved id up after a failed push, so a retry can push again. */
  release(id: string): Promise<void>;
  /** Resolves when the backend answers; rejects when it cannot be reached. */
  ping(): Promise<void>;
}

/** Options every history backend takes. */
export type HistoryOptions = {
  /** Messages kept per user. */
  size: number;
  /** Seconds a user's history and a push id live after their last write. */
  ttl: number;
  /** Seconds an unfinished reservation holds its id. @default 30 */
  reservationTtl?: number;
};
