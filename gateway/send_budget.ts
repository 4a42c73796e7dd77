/**
 * The send-buffer budget of a whole node (`WSGW_NODE_SEND_BUFFER_BYTES`).
 * Each socket has its own limit, but ten thousand sockets each just under it
 * still add up to more memory than the process has. When the node's total
 * passes the budget, the consumers with the most bytes queued (the slowest)
 * are closed with 4008 until the total is back under 90% of it: a few slow
 * clients reconnect, the process and everyone else stay up.
 *
 * @module
 */

/** What the budget sees of a connection. */
export type BudgetedSession = {
  readonly bufferedBytes: number;
  readonly closed: boolean;
  close(reason: "nodeSendBudget"): void;
};

/** Once over the budget, shed down to this share of it. */
const SHED_TO = 0.9;

/** Checks a node's total send buffer against its budget and sheds the slowest. */
export class SendBudget {
  readonly #budget: number;
  readonly #sessions: () => Iterable<BudgetedSession>;

  constructor(
    budgetBytes: number,
    sessions: () => Iterable<BudgetedSession>,
  ) {
    this.#budget = budgetBytes;
    this.#sessions = sessions;
  }

  /**
   * Sheds the slowest sessions when the total is over the budget; returns how
   * many were closed. Cost: one pass over the sessions, a sort only when over.
   */
  enforce(): number {
    let total = 0;
    const sessions: BudgetedSession[] = [];
    for (const session of this.#sessions()) {
      const bytes = session.bufferedBytes;
      if (bytes === 0) continue;
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
      closed++;
    }
    return closed;
  }
}
