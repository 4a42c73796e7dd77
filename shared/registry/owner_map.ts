/**
 * The compact user → node id(s) map a `reset` event carries and a router
 * keeps: almost every user is on one node, so its value is that node's id
 * (one interned string shared by all its users), and an array only for the
 * few users on several nodes. A Set per user cost ~2.5x the memory at 1M
 * users.
 *
 * @module
 */
import type { NodeRecord, RegistryEvent } from "./registry.ts";

/** The `reset` member of {@link RegistryEvent}. */
export type ResetEvent = Extract<RegistryEvent, { type: "reset" }>;

/** user → its node id, or node ids when several nodes hold it. */
export type OwnerMap = Map<string, string | string[]>;

/** Records that `nodeId` holds `user`; false when it already did. */
export function addOwner(map: OwnerMap, user: string, nodeId: string): boolean {
  const owners = map.get(user);
  if (owners === undefined) map.set(user, nodeId);
  else if (typeof owners === "string") {
    if (owners === nodeId) return false;
    map.set(user, [owners, nodeId]);
  } else {
    if (owners.includes(nodeId)) return false;
    owners.push(nodeId);
  }
  return true;
}

/** Forgets that `nodeId` holds `user`; false when it did not. */
export function removeOwner(
  map: OwnerMap,
  user: string,
  nodeId: string,
): boolean {
  const owners = map.get(user);
  if (owners === undefined) return false;
  if (typeof owners === "string") {
    if (owners !== nodeId) return false;
    map.delete(user);
    return true;
  }
  const at = owners.indexOf(nodeId);
  if (at < 0) return false;
  owners.splice(at, 1);
  if (owners.length === 1) map.set(user, owners[0]!);
  return true;
}

/** The node ids holding `user` (a new array). */
export function ownersIn(map: OwnerMap, user: string): string[] {
  const owners = map.get(user);
  if (owners === undefined) return [];
  return typeof owners === "string" ? [owners] : [...owners];
}

/** How many (user, node) pairs `map` holds. */
export function pairCount(map: OwnerMap): number {
  let count = 0;
  for (const owners of map.values()) {
    count += typeof owners === "string" ? 1 : owners.length;
  }
  return count;
}

/**
 * A `reset` event over `owners`. Its `users` list is built on first read
 * only: a router takes `owners` as it is and never pays for the list.
 */
export function resetEvent(nodes: NodeRecord[], owners: OwnerMap): ResetEvent {
  let users: { user: string; nodeId: string }[] | undefined;
  return {
    type: "reset",
    nodes,
    owners,
    get users() {
      if (!users) {
        users = [];
        for (const [user, value] of owners) {
          if (typeof value === "string") users.push({ user, nodeId: value });
          else for (const nodeId of value) users.push({ user, nodeId });
        }
      }
      return users;
    },
  };
}

/** A `reset` event from a list of (user, node) pairs (tests, tools). */
export function resetOfPairs(
  nodes: NodeRecord[],
  pairs: readonly { user: string; nodeId: string }[],
): ResetEvent {
  const owners: OwnerMap = new Map();
  for (const { user, nodeId } of pairs) addOwner(owners, user, nodeId);
  return resetEvent(nodes, owners);
}
