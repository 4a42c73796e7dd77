/**
 * Keeps one etcd lease alive, and is our own watchdog over it: npm `etcd3`'s
 * `Lease` has been seen to miss a lost lease while its keep-alive stream
 * looked healthy (microsoft/etcd3 #72, #110), so we drive the keep-alive
 * stream ourselves and trust only its answers. Private to `shared/registry/`.
 *
 * @module
 */
import type { Etcd3, ILeaseKeepAliveResponse } from "etcd3";
import type { Logger } from "../log.ts";
import {
  backoff,
  type EtcdContext,
  isLeaseNotFound,
  sleep,
} from "./_etcd_client.ts";

/**
 * Deadline of a lease revoke. Revoking deletes every key of the lease in one
 * raft entry: ~0.9 s for 100k keys here, ~2 s with a watcher to feed, so the
 * usual call deadline is too short for a big node.
 */
const REVOKE_TIMEOUT = 30_000;

/** Grants a lease of `ttl` seconds; resolves with its id. */
export async function grantLease(
  ctx: EtcdContext,
  ttl: number,
): Promise<string> {
  return (await ctx.client.leaseClient.leaseGrant({ TTL: ttl })).ID;
}

/** Revokes `leaseId`, best effort: failing that, its keys expire with it. */
export async function revokeLease(
  ctx: EtcdContext,
  leaseId: string,
): Promise<void> {
  try {
    await ctx.client.leaseClient.leaseRevoke({ ID: leaseId }, {
      deadline: Date.now() + REVOKE_TIMEOUT,
    });
  } catch (error) {
    if (!isLeaseNotFound(error)) {
      ctx.log.warn("lease revoke failed; its keys expire with it", {
        leaseId,
        error,
      });
    }
  }
}

/** Options of {@link LeaseKeeper}. */
export type LeaseKeeperOptions = {
  client: Etcd3;
  leaseId: string;
  /** Seconds, as granted. */
  ttl: number;
  log: Logger;
  /**
   * Called once when the lease may be gone: a keep-alive answer says so, or
   * no answer came within the TTL (etcd expires the lease by then).
   */
  onLost: (reason: string) => void;
};

/**
 * Sends a keep-alive every TTL/3 (what etcd's Go client does) over a
 * keep-alive stream it reopens with backoff, and calls `onLost` when the
 * last answer is older than the TTL.
 */
export class LeaseKeeper {
  readonly leaseId: string;
  readonly #options: LeaseKeeperOptions;
  readonly #stop = new AbortController();
  #lastAnswer = Date.now();
  #attempt = 0;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;

  constructor(options: LeaseKeeperOptions) {
    this.#options = options;
    this.leaseId = options.leaseId;
  }

  /** `Date.now()` of the last answer that confirmed the lease (or of the start). */
  get lastAnswer(): number {
    return this.#lastAnswer;
  }

  /** Starts the keep-alives and the watchdog; the grant counts as an answer. */
  start(): void {
    if (this.#running || this.#stop.signal.aborted) return;
    this.#lastAnswer = Date.now();
    const ttlMs = this.#options.ttl * 1000;
    this.#watchdog = setInterval(() => {
      const silent = Date.now() - this.#lastAnswer;
      if (silent > ttlMs) {
        this.#lost(`no keep-alive answer for ${silent} ms (TTL ${ttlMs} ms)`);
      }
    }, Math.max(50, Math.min(1000, ttlMs / 8)));
    this.#running = this.#run();
  }

  /** Stops everything; idempotent. Resolves once the stream is closed. */
  async stop(): Promise<void> {
    this.#stop.abort();
    clearInterval(this.#watchdog);
    await this.#running;
  }

  #lost(reason: string): void {
    if (this.#stop.signal.aborted) return;
    void this.stop();
    this.#options.onLost(reason);
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      await this.#session();
      if (signal.aborted) break;
      await sleep(backoff(this.#attempt++, 100, 1000), signal);
    }
  }

  /** One keep-alive stream, until it fails or we stop. */
  async #session(): Promise<void> {
    const { client, leaseId, ttl, log } = this.#options;
    const signal = this.#stop.signal;
    let stream;
    try {
      stream = await client.leaseClient.leaseKeepAlive();
    } catch (error) {
      log.debug("lease keep-alive stream failed to open", { leaseId, error });
      return;
    }
    await new Promise<void>((resolve) => {
      const end = () => {
        clearInterval(timer);
        signal.removeEventListener("abort", end);
        stream.cancel(); // idempotent; an 'error' (CANCELLED) may follow
        resolve();
      };
      stream.on("data", (answer: ILeaseKeepAliveResponse) => {
        if (Number(answer.TTL) <= 0) {
          end();
          this.#lost("a keep-alive answer says the lease is gone");
          return;
        }
        this.#lastAnswer = Date.now();
        this.#attempt = 0;
      });
      stream.on("error", (error: Error) => {
        if (!signal.aborted) {
          log.debug("lease keep-alive stream failed", { leaseId, error });
        }
        end();
      });
      stream.on("end", end);
      signal.addEventListener("abort", end);
      const ping = () => stream.write({ ID: leaseId });
      const timer = setInterval(ping, (ttl * 1000) / 3);
      if (signal.aborted) return end();
      ping();
    });
  }
}
