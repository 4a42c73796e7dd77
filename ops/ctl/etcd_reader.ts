/**
 * Read-only access to the registry in etcd for ctl, through etcd's JSON
 * gateway (`POST /v3/kv/range` over `fetch`): no grpc to load, a plain
 * timeout per call, and the key layout from `shared/registry/keys.ts`.
 *
 * @module
 */
import {
  decodeNodeValue,
  prefixEnd,
  RegistryKeys,
} from "../../shared/registry/keys.ts";
import type { NodeRecord } from "../../shared/registry/mod.ts";
import { CtlError, oneLine } from "./errors.ts";

/** One (user, node) key and when the node registered the user. */
export type UserKey = { user: string; nodeId: string; since: number | null };

type RangeAnswer = {
  kvs?: { key: string; value?: string }[];
  more?: boolean;
};

/** Keys per range request. */
const PAGE = 5000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads node records and user keys under one prefix. */
export class EtcdReader {
  readonly #endpoints: readonly string[];
  readonly #keys: RegistryKeys;
  readonly #timeoutMs: number;

  constructor(endpoints: readonly string[], prefix: string, timeoutMs = 3000) {
    this.#endpoints = endpoints;
    this.#keys = new RegistryKeys(prefix);
    this.#timeoutMs = timeoutMs;
  }

  /** Every node record. */
  async nodes(): Promise<NodeRecord[]> {
    const kvs = await this.#scan(this.#keys.nodesRoot, false);
    return kvs.flatMap(({ key, value }) => {
      const parsed = this.#keys.parse(key);
      const node = parsed?.kind === "node"
        ? decodeNodeValue(parsed.nodeId, value)
        : undefined;
      return node ? [node] : [];
    });
  }

  /** The keys of `user`: one per node holding it. */
  async owners(user: string): Promise<UserKey[]> {
    const kvs = await this.#scan(this.#keys.userRoot(user), false);
    return kvs.flatMap(({ key, value }) => {
      const parsed = this.#keys.parse(key);
      return parsed?.kind === "user"
        ? [{ user: parsed.user, nodeId: parsed.nodeId, since: since(value) }]
        : [];
    });
  }

  /**
   * Up to `limit` (user, node) keys, in key order, of node `nodeId` (or of
   * every node); `truncated` when more exist.
   */
  async users(
    nodeId: string | undefined,
    limit: number,
  ): Promise<{ users: UserKey[]; truncated: boolean }> {
    const users: UserKey[] = [];
    let truncated = false;
    await this.#scan(this.#keys.usersRoot, true, (key) => {
      const parsed = this.#keys.parse(key);
      if (parsed?.kind !== "user") return true;
      if (nodeId !== undefined && parsed.nodeId !== nodeId) return true;
      if (users.length === limit) {
        truncated = true;
        return false;
      }
      users.push({ user: parsed.user, nodeId: parsed.nodeId, since: null });
      return true;
    });
    return { users, truncated };
  }

  /**
   * Pages through `prefix`; `visit` may stop the scan by returning false.
   * Returns what it read when no `visit` is given.
   */
  async #scan(
    prefix: string,
    keysOnly: boolean,
    visit?: (key: string, value: string) => boolean,
  ): Promise<{ key: string; value: string }[]> {
    const out: { key: string; value: string }[] = [];
    const end = b64(prefixEnd(prefix));
    let from = encoder.encode(prefix);
    while (true) {
      const answer = await this.#call<RangeAnswer>("/v3/kv/range", {
        key: b64(from),
        range_end: end,
        limit: PAGE,
        keys_only: keysOnly,
      });
      const kvs = answer.kvs ?? [];
      for (const kv of kvs) {
        const key = decoder.decode(unb64(kv.key));
        const value = kv.value ? decoder.decode(unb64(kv.value)) : "";
        if (visit) {
          if (!visit(key, value)) return out;
        } else out.push({ key, value });
      }
      const last = kvs.at(-1);
      if (!answer.more || !last) break;
      // The next page starts right after the last key.
      const lastKey = unb64(last.key);
      from = new Uint8Array(lastKey.length + 1);
      from.set(lastKey);
    }
    return out;
  }

  async #call<T>(path: string, body: unknown): Promise<T> {
    let lastError: unknown;
    for (const endpoint of this.#endpoints) {
      try {
        const response = await fetch(new URL(path, endpoint), {
          method: "POST",
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        if (!response.ok) {
          throw new Error(
            `HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`,
          );
        }
        return await response.json() as T;
      } catch (error) {
        lastError = error;
      }
    }
    throw new CtlError(
      `etcd at ${this.#endpoints.join(",")} is unreachable (${
        oneLine(lastError)
      }): is the cluster running? Check WSGW_ETCD, --etcd or the state file`,
      1,
      { cause: lastError },
    );
  }
}

function since(value: string): number | null {
  try {
    const parsed = JSON.parse(value) as { since?: unknown };
    return typeof parsed.since === "number" ? parsed.since : null;
  } catch {
    return null; // not a value we wrote
  }
}

function b64(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

function unb64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
