/**
 * An append to many users as one call per user, each settling on its own
 * within one deadline: in a Redis Cluster the users of a master that is down
 * or hung fail while the other masters store theirs, and the caller must
 * learn which users were stored. Private to `history/`.
 *
 * @module
 */
import { PartialAppendError, type UnavailableError } from "../errors.ts";
import type { Appended } from "./history.ts";
import type { AppendReply } from "./_redis_replies.ts";

/** Distinct errors an append's error names; MOVED, for one, differs per slot. */
const MAX_CAUSES = 3;

/**
 * Runs `call(i)` for each of `count` users and waits until every call has
 * settled or `bound` gives up (it rejects with the deadline's error); a call
 * still unanswered then has failed (it may still run later, as any call
 * that timed out).
 *
 * @returns every user's seq and epoch, in order, when all were stored.
 * @throws {PartialAppendError} when some were stored and some not: it holds
 * the stored ones.
 * @throws {UnavailableError} `failure` of the first error, when none was stored.
 */
export async function appendEach(
  count: number,
  call: (i: number) => Promise<AppendReply>,
  bound: (settled: Promise<void>) => Promise<void>,
  failure: (error: unknown) => UnavailableError,
): Promise<Appended[]> {
  const appended: (Appended | undefined)[] = new Array(count);
  const errors: unknown[] = new Array(count);
  let pending = count;
  let done = () => {};
  const settled = new Promise<void>((resolve) => done = resolve);
  const settle = () => {
    if (--pending === 0) done();
  };
  for (let i = 0; i < count; i++) {
    let reply: Promise<AppendReply>;
    try {
      reply = call(i);
    } catch (error) {
      reply = Promise.reject(error);
    }
    reply.then(([seq, epoch]) => {
      appended[i] = { seq: Number(seq), epoch };
      settle();
    }, (error) => {
      errors[i] = error;
      settle();
    });
  }
  if (count === 0) done();
  let expired: unknown;
  await bound(settled).catch((error) => expired = error);

  let stored = 0;
  // Each distinct error once, with how many users it failed, for the log.
  let others = 0;
  const causes = new Map<string, { error: unknown; users: number }>();
  for (let i = 0; i < count; i++) {
    if (appended[i] !== undefined) {
      stored++;
      continue;
    }
    const error = errors[i] ?? expired;
    const key = error instanceof Error ? error.message : String(error);
    const seen = causes.get(key);
    if (seen) seen.users++;
    else if (causes.size < MAX_CAUSES) causes.set(key, { error, users: 1 });
    else others++;
  }
  if (stored === count) return appended as Appended[];
  const first = failure(causes.values().next().value!.error);
  // Nothing stored: as an append to one user would fail.
  if (stored === 0) throw first;
  const why = [...causes].map(([message, { users }]) => `${message} (${users})`)
    .join("; ") + (others > 0 ? `; ${others} more` : "");
  // A copy without holes: later answers must not change what the caller
  // was told.
  throw new PartialAppendError(
    `history append stored the message for ${stored} of ${count} users; the others failed: ${why}`,
    Array.from(appended),
    { cause: first },
  );
}
