/**
 * Writes many registry user keys straight into etcd, in txns of at most 128
 * puts (etcd's `--max-txn-ops`), without a lease: the fixture for "a watcher
 * started on a big prefix" tests and the registry load benchmark.
 *
 * @module
 */
import type { NodeRecord } from "../../shared/registry/mod.ts";
import { Buffer } from "node:buffer";
import { Etcd3 } from "etcd3";
import { encodeUserValue, RegistryKeys } from "../../shared/registry/keys.ts";

/** Options of {@link bulkLoadUsers}. */
export type BulkLoadOptions = {
  /** @default "/wsgw" */
  prefix?: string;
  /** How many (user, node) keys to write. */
  count: number;
  /** Users are spread over this many node ids `bulk-0`…. @default 10 */
  nodes?: number;
  /** Txns on the wire at once. @default 8 */
  concurrency?: number;
};

/** The user id of bulk key number `i`. */
export const bulkUser = (i: number): string => `bulk user/${i} 🎈`;

/** Writes `count` user keys; resolves with the number of txns used. */
export async function bulkLoadUsers(
  endpoint: string,
  options: BulkLoadOptions,
): Promise<number> {
  const keys = new RegistryKeys(options.prefix ?? "/wsgw");
  const nodes = options.nodes ?? 10;
  const client = new Etcd3({ hosts: [endpoint] });
  const value = Buffer.from(
    encodeUserValue({ since: Date.now(), devices: [] }),
  );
  let next = 0;
  let txns = 0;
  const worker = async () => {
    while (next < options.count) {
      const start = next;
      next = Math.min(options.count, next + 128);
      const success = [];
      for (let i = start; i < next; i++) {
        const key = keys.user(bulkUser(i), `bulk-${i % nodes}`);
        success.push({ request_put: { key: Buffer.from(key), value } });
      }
      await client.kv.txn({ success });
      txns++;
    }
  };
  try {
    await Promise.all(
      Array.from({ length: options.concurrency ?? 8 }, worker),
    );
  } finally {
    client.close();
  }
  return txns;
}

/** A node record for tests and benchmarks (its URLs lead nowhere). */
export function nodeRecord(nodeId: string): NodeRecord {
  return {
    nodeId,
    url: `http://127.0.0.1:1/${nodeId}`,
    internalUrl: `http://127.0.0.1:2/${nodeId}`,
    startedAt: 1700000000000,
    draining: false,
  };
}
