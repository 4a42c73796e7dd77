/**
 * Cheap checks on a socket request before its token is verified: the
 * browser `Origin` allowlist (`WSGW_ALLOWED_ORIGINS`) and new connections per
 * client address per second (`WSGW_CONNECT_RATE`), so a flood from one
 * address is turned away with 429 before it costs a signature check; and new
 * connections per second to the whole node (`WSGW_CONNECT_BUDGET`), so a
 * reconnect storm after another node died is answered 503 with a spread
 * `Retry-After` instead of piling up handshakes that time out.
 *
 * @module
 */
import {
  ForbiddenError,
  OverloadedError,
  RateLimitedError,
} from "../shared/errors.ts";
import { TokenBucket } from "../shared/token_bucket.ts";

/** Options of {@link ConnectGuard}. */
export type ConnectGuardOptions = {
  /** Origins allowed to connect from a browser; empty allows any. */
  allowedOrigins: readonly string[];
  /** New connections per second per address, burst twice that; 0 is no limit. */
  connectRate: number;
  /** New connections per second to this node from everyone, burst twice that; 0 (or absent) is no limit. */
  connectBudget?: number;
  /** Addresses tracked at once; beyond it, new addresses are not limited. @default 100000 */
  maxTracked?: number;
  /** Clock in ms. @default Date.now */
  now?: () => number;
  /** Random numbers in [0, 1) for the spread of `Retry-After`. @default Math.random */
  random?: () => number;
};

/** Idle buckets are forgotten on a sweep at most this often. */
const SWEEP_EVERY_MS = 10_000;

/** Decides whether a socket request may go on to token verification. */
export class ConnectGuard {
  readonly #origins: ReadonlySet<string>;
  readonly #rate: number;
  readonly #maxTracked: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #budget: TokenBucket | undefined;
  readonly #random: () => number;
  #sweptAt: number;

  constructor(options: ConnectGuardOptions) {
    this.#origins = new Set(options.allowedOrigins);
    this.#rate = options.connectRate;
    this.#maxTracked = options.maxTracked ?? 100_000;
    this.#now = options.now ?? Date.now;
    this.#sweptAt = this.#now();
    const budget = options.connectBudget ?? 0;
    this.#budget = budget > 0
      ? new TokenBucket({ rate: budget, burst: budget * 2, now: this.#now })
      : undefined;
    this.#random = options.random ?? Math.random;
  }

  /** Addresses with a bucket right now (for tests and metrics). */
  get tracked(): number {
    return this.#buckets.size;
  }

  /**
   * Throws when the request may not connect.
   *
   * @throws {ForbiddenError} `origin_forbidden` for a browser origin not allowed.
   * @throws {RateLimitedError} when `address` opened too many sockets lately.
   * @throws {OverloadedError} when the node took its budget of new sockets.
   */
  check(origin: string | null, address: string): void {
    // Only browsers send Origin, and only browsers need protecting from a
    // page of another site opening sockets with a user's token.
    if (
      origin !== null && this.#origins.size > 0 && !this.#origins.has(origin)
    ) {
      throw new ForbiddenError(
        "this origin may not open sockets here",
        undefined,
        "origin_forbidden",
      );
    }
    if (this.#rate > 0 && !this.#bucket(address).take()) {
      throw new RateLimitedError(
        "too many new connections from this address; retry in a second",
      );
    }
    if (this.#budget && !this.#budget.take()) {
      // 1-3 s, spread: clients told the same number come back together.
      const retryAfter = 1 + Math.floor(this.#random() * 3);
      throw new OverloadedError(
        `this node is taking too many new connections; retry in ${retryAfter} s or connect elsewhere`,
        retryAfter,
      );
    }
  }

  #bucket(address: string): TokenBucket {
    const key = addressKey(address);
    let bucket = this.#buckets.get(key);
    if (bucket) return bucket;
    if (
      this.#buckets.size >= this.#maxTracked ||
      this.#now() - this.#sweptAt > SWEEP_EVERY_MS
    ) {
      this.#sweep();
    }
    bucket = new TokenBucket({
      rate: this.#rate,
      burst: this.#rate * 2,
      now: this.#now,
    });
    // A table full of busy addresses is an attack spread over many of them:
    // new addresses go unlimited rather than the table growing without end.
    if (this.#buckets.size < this.#maxTracked) this.#buckets.set(key, bucket);
    return bucket;
  }

  /** Forgets addresses whose bucket refilled: they are as good as new. */
  #sweep(): void {
    this.#sweptAt = this.#now();
    for (const [key, bucket] of this.#buckets) {
      if (bucket.full) this.#buckets.delete(key);
    }
  }
}

/**
 * The unit one bucket limits: an IPv4 address, or the /64 network of an
 * IPv6 address (one host usually holds a whole /64).
 */
export function addressKey(address: string): string {
  if (!address.includes(":")) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  const [head = "", tail = ""] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = address.includes("::")
    ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":") + "::/64";
}
