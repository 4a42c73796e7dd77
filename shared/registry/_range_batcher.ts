/**
 * Coalesces the prefix reads asked for in one turn into one etcd txn of
 * range ops (at most {@link MAX_RANGES_PER_TXN} each). A gateway reads a
 * user's records after every connect (the cluster-wide device limit): one
 * gRPC call per connect cost ~15 KiB of gateway RSS per socket and a quarter
 * of the connect rate in a 5k-socket ramp; one call per burst does not.
 * Private to `shared/registry/`.
 *
 * @module
 */
import type { Etcd3, IRangeResponse, IRequestOp } from "etcd3";
import { bytes } from "./_etcd_client.ts";
import { prefixEnd } from "./keys.ts";

/** etcd's default `--max-txn-ops` counts range ops too. */
export const MAX_RANGES_PER_TXN = 128;

type Pending = {
  prefix: string;
  keysOnly: boolean;
  done: PromiseWithResolvers<IRangeResponse>;
};

/** Reads key prefixes, batched per turn; each read sees etcd as of its txn. */
export class RangeBatcher {
  readonly #client: Etcd3;
  #pending: Pending[] = [];

  constructor(client: Etcd3) {
    this.#client = client;
  }

  /** Every key under `prefix` (values too unless `keysOnly`). */
  range(prefix: string, keysOnly: boolean): Promise<IRangeResponse> {
    const done = Promise.withResolvers<IRangeResponse>();
    if (this.#pending.length === 0) queueMicrotask(() => this.#flush());
    this.#pending.push({ prefix, keysOnly, done });
    return done.promise;
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (let i = 0; i < pending.length; i += MAX_RANGES_PER_TXN) {
      void this.#send(pending.slice(i, i + MAX_RANGES_PER_TXN));
    }
  }

  async #send(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      // A lone read needs no txn around it.
      const [only] = batch as [Pending];
      try {
        only.done.resolve(
          await this.#client.kv.range(rangeRequest(only)),
        );
      } catch (error) {
        only.done.reject(error);
      }
      return;
    }
    try {
      const answer = await this.#client.kv.txn({
        success: batch.map((p): IRequestOp => ({
          request_range: rangeRequest(p),
        })),
      });
      batch.forEach((p, i) => {
        const response = answer.responses[i]?.response_range;
        if (response) p.done.resolve(response);
        else p.done.reject(new Error("etcd txn answered without this range"));
      });
    } catch (error) {
      for (const p of batch) p.done.reject(error);
    }
  }
}

function rangeRequest(p: Pending) {
  return {
    key: bytes(p.prefix),
    range_end: bytes(prefixEnd(p.prefix)),
    keys_only: p.keysOnly,
  };
}
