/**
 * The send-buffer budget of a whole node (`WSGW_NODE_SEND_BUFFER_BYTES`).
 * Each socket has its own limit, but ten thousand sockets each just under it
 * still add up to more memory than the process has. When the node's total
 * passes the budget, the consumers with the most bytes queued (the slowest)
 * are closed with 4008 until the total is back under 90% of it: a few slow
 * clients reconnect, the process and everyone else stay up.
 *
 * Only sessions that may hold bytes are read: those written to since the
 * last check ({@link SendBudget.touched}) and those that held bytes then. A
 * send buffer only shrinks while nothing is written, so a session seen empty
 * and not written to since is still empty; reading every socket's buffered
 * amount four times a second was a cost per idle socket.
 *
 * @module
 */

/** What the budget sees of a connection. */
export type BudgetedSession = {
  /** Read from the socket. */
  readonly bufferedBytes: number;
  /** At least `bufferedBytes`, known without reading the socket. */
  readonly bufferedBytesBound: number;
  readonly closed: boolean;
  close(reason: "nodeSendBudget"): void;
};

/** Once over the budget, shed down to this share of it. */
const SHED_TO = 0.9;

/** Checks a node's total send buffer against its budget and sheds the slowest. */
export class SendBudget {
  readonly #budget: number;
  /** Sessions that may hold bytes. */
  readonly #watched = new Set<BudgetedSession>();

  constructor(budgetBytes: number) {
    this.#budget = budgetBytes;
  }

  /** `session` was written to (or queued a frame): read it at the next check. */
  touched(session: BudgetedSession): void {
    this.#watched.add(session);
  }

  /** Sessions read at the next check. */
  get watched(): number {
    return this.#watched.size;
  }

  /**
   * {@link enforce} when the watched sessions' bounds add up to more than the
   * budget; otherwise nothing (the total cannot be over). For right after a
   * broadcast, which touches every session: reading each socket then cost
   * more than the broadcast's own bookkeeping. The periodic check reads them.
   */
  enforceIfBoundsOver(): number {
    let bound = 0;
    for (const session of this.#watched) bound += session.bufferedBytesBound;
    return bound > this.#budget ? this.enforce() : 0;
  }

  /**
   * Sheds the slowest sessions when the total is over the budget; returns how
   * many were closed. Cost: one pass over the watched sessions, a sort only
   * when over.
   */
  enforce(): number {
    let total = 0;
    const sessions: BudgetedSession[] = [];
    for (const session of this.#watched) {
      const bytes = session.closed ? 0 : session.bufferedBytes;
      if (bytes === 0) {
        this.#watched.delete(session);
        continue;
      }
      total += bytes;
      sessions.push(session);
    }
    if (total <= this.#budget) return 0;
    sessions.sort((a, b) => b.bufferedBytes - a.bufferedBytes);
    let closed = 0;
    for (const session of sessions) {
      if (total <= this.#budget * SHED_TO) break;
      total -= session.bufferedBytes;
      session.close("nodeSendBudget");
      this.#watched.delete(session);
      closed++;
    }
    return closed;
  }
}
