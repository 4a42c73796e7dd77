/**
 * A node watches its own record: whoever can write to etcd could rewrite it
 * (on the node's own lease, so it would outlive nothing but look alive) to
 * point routers elsewhere. Routers ignore a record without a valid
 * signature, which would leave the node unreachable; the guard puts the
 * node's own record back as soon as it sees another value. Private to
 * `shared/registry/`.
 *
 * @module
 */
import type { IKeyValue, Watcher } from "etcd3";
import type { EtcdContext } from "./_etcd_client.ts";

/** What the guard compares a stored record with, and how it restores it. */
export type RecordGuardOptions = {
  nodeId: string;
  /** The value and lease the record should have now. */
  expected: () => { value: string; leaseId: string };
  /** Writes the record again (on the current lease). */
  restore: () => void;
  /** False while the membership itself is moving or removing the record. */
  active: () => boolean;
};

/** Watches one node key and restores it when someone else changes it. */
export class NodeRecordGuard {
  readonly #ctx: EtcdContext;
  readonly #options: RecordGuardOptions;
  #watcher: Promise<Watcher | undefined> | undefined;
  #stopped = false;
  /** Restores so far (tests and logs). */
  restores = 0;

  constructor(ctx: EtcdContext, options: RecordGuardOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  /** Starts watching; the watcher reconnects by itself after etcd outages. */
  start(): void {
    const key = this.#ctx.keys.node(this.#options.nodeId);
    this.#watcher = this.#ctx.client.watch().key(key).create().then(
      (watcher) => {
        watcher.on("put", (kv) => this.#seen(kv));
        watcher.on("delete", () => this.#changed("deleted"));
        // Stream errors are retried by the watcher; the lease keeper and
        // the membership report etcd outages.
        watcher.on("error", () => {});
        if (this.#stopped) void watcher.cancel();
        return watcher;
      },
      (error) => {
        this.#ctx.log.warn("cannot watch the node's own record", {
          nodeId: this.#options.nodeId,
          error,
        });
        return undefined;
      },
    );
  }

  /** Stops watching. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const watcher = await this.#watcher;
    await watcher?.cancel().catch(() => {});
  }

  #seen(kv: IKeyValue): void {
    const { value, leaseId } = this.#options.expected();
    if (kv.value.toString() === value && String(kv.lease) === leaseId) return;
    this.#changed("rewritten");
  }

  #changed(how: "rewritten" | "deleted"): void {
    if (this.#stopped || !this.#options.active()) return;
    this.restores++;
    this.#ctx.log.warn(`node record ${how} by another writer, restoring it`, {
      nodeId: this.#options.nodeId,
    });
    this.#options.restore();
  }
}
