/**
 * Per-API-key budgets of the push API, so that one business service cannot
 * saturate a router or fill Redis: requests per second, and bytes per
 * second counted as what a request makes the cluster store and send (a
 * push's data times its users; a broadcast's data once). Over either, 429
 * `rate_limited` with `Retry-After`. Each router replica keeps its own
 * budgets (N replicas allow N times as much).
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { RateLimitedError } from "../shared/errors.ts";
import { MessageTooLargeError } from "./errors.ts";
import { TokenBucket } from "../shared/token_bucket.ts";
import type { ApiKeyEnv } from "./api_key.ts";

/** Options of {@link KeyBudgets}. */
export type KeyBudgetOptions = {
  /** Requests per second per key (burst: twice that); 0 turns it off. */
  requestRate: number;
  /** Bytes per second per key (burst: twice that); 0 turns it off. */
  byteRate: number;
  /** @default Date.now */
  now?: () => number;
};

/** The request and byte buckets of every key, by the key's position. */
export class KeyBudgets {
  readonly #options: KeyBudgetOptions;
  readonly #requests = new Map<number, TokenBucket>();
  readonly #bytes = new Map<number, TokenBucket>();

  constructor(options: KeyBudgetOptions) {
    this.#options = options;
  }

  /**
   * Middleware taking one request of the caller's key (after the key
   * check); it also makes {@link chargePush} find these budgets.
   */
  requests(): MiddlewareHandler<ApiKeyEnv & BudgetEnv> {
    return async (c, next) => {
      c.set("keyBudgets", this);
      const rate = this.#options.requestRate;
      if (rate > 0) {
        const bucket = this.#bucket(this.#requests, keyOf(c), rate);
        if (!bucket.take()) {
          throw over("requests", bucket.msUntil(), "WSGW_KEY_REQUEST_RATE");
        }
      }
      await next();
    };
  }

  /**
   * Takes `bytes` of the caller's budget before a request stores or sends
   * them.
   *
   * @throws {RateLimitedError} when the key has not that much left now.
   */
  spend(c: Context, bytes: number): void {
    const rate = this.#options.byteRate;
    if (rate <= 0) return;
    const bucket = this.#bucket(this.#bytes, keyOf(c), rate);
    if (!bucket.take(bytes)) {
      throw over("bytes", bucket.msUntil(bytes), "WSGW_KEY_BYTE_RATE");
    }
  }

  #bucket(
    buckets: Map<number, TokenBucket>,
    key: number,
    rate: number,
  ): TokenBucket {
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket({
        rate,
        burst: 2 * rate,
        now: this.#options.now,
      });
      buckets.set(key, bucket);
    }
    return bucket;
  }
}

/** Context variables of {@link KeyBudgets.requests}. */
export type BudgetEnv = { Variables: { keyBudgets: KeyBudgets } };

/**
 * What a push or broadcast costs before it runs: refuses one whose data
 * times its users is over `maxPushBytes` (413 `message_too_large`), then
 * takes that many bytes of the key's budget (429 when spent).
 */
export function chargePush(
  c: Context,
  users: number,
  dataJson: string,
  maxPushBytes: number,
): void {
  const bytes = users * dataJson.length;
  if (bytes > maxPushBytes) {
    throw new MessageTooLargeError(
      `data × users is ${bytes} bytes, over ${maxPushBytes} per push (WSGW_MAX_PUSH_BYTES): send fewer users or less data per push`,
    );
  }
  (c.get("keyBudgets") as KeyBudgets | undefined)?.spend(c, bytes);
}

/** The position of the caller's key (set by `apiKeyAuth`). */
function keyOf(c: Context): number {
  return (c.get("apiKeyIndex") as number | undefined) ?? -1;
}

function over(
  what: string,
  waitMs: number,
  variable: string,
): RateLimitedError {
  return new RateLimitedError(
    `this API key is over its ${what} per second (${variable}); retry later`,
    Math.max(1, Math.ceil(waitMs / 1000)),
  );
}
