/**
 * The etcd key layout of the registry (PROTOCOL.md "Registry layout in etcd"),
 * spelled here and nowhere else:
 *
 * - `<prefix>/nodes/<nodeId>` → `{"url","internalUrl","startedAt","draining","sig"}`
 *   (`sig`: see `node_record_codec.ts`)
 * - `<prefix>/users/<encodeURIComponent(userId)>/<nodeId>` →
 *   `{"since": <ms>, "devices": [{"connId", "connectedAt"}]}`
 *
 * Both are attached to the node's lease. `encodeURIComponent` never emits `/`,
 * so a user id holding slashes, spaces or emoji still splits unambiguously at
 * the first `/` after `users/`; node ids may not hold `/` at all.
 *
 * @module
 */
import type { DeviceRef, NodeRecord } from "./registry.ts";

/** The value stored under a user key. */
export type UserValue = {
  /** When this node registered the user (ms since epoch). */
  since: number;
  /** The user's connections on this node (the cluster-wide device limit reads them). */
  devices: readonly DeviceRef[];
};

/** What a key under the prefix stands for; see {@link RegistryKeys.parse}. */
export type ParsedKey =
  | { kind: "node"; nodeId: string }
  | { kind: "user"; user: string; nodeId: string };

const encoder = new TextEncoder();

/** Builds and parses the registry's keys under one prefix (e.g. `/wsgw`). */
export class RegistryKeys {
  /** The prefix as given, without a trailing `/`. */
  readonly prefix: string;
  /** `<prefix>/`: every registry key starts with it (what `watch` covers). */
  readonly root: string;
  /** `<prefix>/nodes/` */
  readonly nodesRoot: string;
  /** `<prefix>/users/` */
  readonly usersRoot: string;

  /** @throws {TypeError} when `prefix` does not start with `/` or ends with one. */
  constructor(prefix: string) {
    if (!prefix.startsWith("/") || prefix.endsWith("/")) {
      throw new TypeError(
        `registry prefix must start with "/" and not end with one, got "${prefix}"`,
      );
    }
    this.prefix = prefix;
    this.root = `${prefix}/`;
    this.nodesRoot = `${prefix}/nodes/`;
    this.usersRoot = `${prefix}/users/`;
  }

  /** `<prefix>/nodes/<nodeId>` */
  node(nodeId: string): string {
    return this.nodesRoot + checkNodeId(nodeId);
  }

  /** `<prefix>/users/<enc(user)>/`: the owners of `user` live below it. */
  userRoot(user: string): string {
    return `${this.usersRoot}${encodeURIComponent(user)}/`;
  }

  /** `<prefix>/users/<enc(user)>/<nodeId>` */
  user(user: string, nodeId: string): string {
    return this.userRoot(user) + checkNodeId(nodeId);
  }

  /**
   * What `key` stands for, or `undefined` for a key outside the layout (a
   * foreign or hand-written key under our prefix is ignored, not fatal).
   */
  parse(key: string): ParsedKey | undefined {
    if (key.startsWith(this.nodesRoot)) {
      const nodeId = key.slice(this.nodesRoot.length);
      return nodeId === "" || nodeId.includes("/")
        ? undefined
        : { kind: "node", nodeId };
    }
    if (key.startsWith(this.usersRoot)) {
      const rest = key.slice(this.usersRoot.length);
      const slash = rest.indexOf("/");
      if (slash <= 0) return undefined;
      const nodeId = rest.slice(slash + 1);
      if (nodeId === "" || nodeId.includes("/")) return undefined;
      try {
        return {
          kind: "user",
          user: decodeURIComponent(rest.slice(0, slash)),
          nodeId,
        };
      } catch {
        return undefined; // malformed %-escape: not a key we wrote
      }
    }
    return undefined;
  }
}

/** The JSON stored under a node key (the node id is in the key). */
export function encodeNodeValue(node: NodeRecord): string {
  const { url, internalUrl, startedAt, draining } = node;
  return JSON.stringify({ url, internalUrl, startedAt, draining });
}

/**
 * The node record stored under `nodeId`'s key, or `undefined` when the value
 * is not the JSON we write.
 */
export function decodeNodeValue(
  nodeId: string,
  value: string,
): NodeRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined; // not JSON: not a record we wrote
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { url, internalUrl, startedAt, draining } = parsed as Record<
    string,
    unknown
  >;
  if (
    typeof url !== "string" || typeof internalUrl !== "string" ||
    typeof startedAt !== "number" || typeof draining !== "boolean"
  ) return undefined;
  return { nodeId, url, internalUrl, startedAt, draining };
}

/** The JSON stored under a user key. */
export function encodeUserValue(value: UserValue): string {
  return JSON.stringify(value);
}

/**
 * The connections listed in a user key's value; `[]` for a value that is not
 * the JSON we write (or an older one without devices).
 */
export function decodeUserDevices(value: string): DeviceRef[] {
  try {
    const { devices } = JSON.parse(value) as { devices?: unknown };
    if (!Array.isArray(devices)) return [];
    return devices.filter((d): d is DeviceRef =>
      typeof d?.connId === "string" && typeof d?.connectedAt === "number"
    ).map(({ connId, connectedAt }) => ({ connId, connectedAt }));
  } catch {
    return []; // not JSON: not a value we wrote
  }
}

/** The end of the range of keys starting with `prefix` (etcd's `range_end`). */
export function prefixEnd(prefix: string): Uint8Array {
  const bytes = encoder.encode(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = bytes.slice(0, i + 1);
      end[i]!++;
      return end;
    }
  }
  return new Uint8Array([0]); // all 0xff: etcd reads "\0" as "to the end"
}

function checkNodeId(nodeId: string): string {
  if (nodeId === "" || nodeId.includes("/")) {
    throw new TypeError(
      `a node id must be non-empty and hold no "/", got "${nodeId}"`,
    );
  }
  return nodeId;
}
