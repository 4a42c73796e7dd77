/**
 * The user → node id(s) map a `reset` event carries and a router keeps, built
 * for a million users: almost every user is on one node, so its value is that
 * node's id (one interned string shared by all its users), and an array only
 * for the few users on several nodes.
 *
 * It is an open-addressing hash table of our own rather than a `Map`: V8
 * hashes a fresh string key on its first `Map.set`, and that, with the
 * table's growth, cost ~1.6 s of a router's cold load of 1M users (half its
 * CPU); the string hash here runs in JIT-compiled JS over ~10 characters
 * and the table is one `Int32Array` of (entry, hash) pairs.
 *
 * @module
 */
import type { NodeRecord, RegistryEvent } from "./registry.ts";

/** The `reset` member of {@link RegistryEvent}. */
export type ResetEvent = Extract<RegistryEvent, { type: "reset" }>;

/** A slot never used: a probe stops here. */
const EMPTY = 0;
/** A slot whose entry was removed: a probe goes on past it. */
const GONE = -1;
/** Entries per chunk (a power of two): see {@link OwnerMap}'s `#chunks`. */
const CHUNK_BITS = 15;
const CHUNK = 1 << CHUNK_BITS;
/** Per-process seed, so user ids cannot be chosen to collide. */
const SEED = crypto.getRandomValues(new Uint32Array(1))[0]! | 0;

/** FNV-1a over UTF-16 code units, then murmur3's finaliser (FNV's low bits mix poorly). */
function hash(user: string): number {
  let h = SEED ^ 0x811c9dc5;
  for (let i = 0; i < user.length; i++) {
    h = Math.imul(h ^ user.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * user → its node id, or node ids when several nodes hold it; every method
 * keeps the ids of one user in the order they were added. Values are never
 * changed in place (an add or remove makes a new array), so a {@link clone}
 * shares them.
 */
export class OwnerMap {
  /** Pairs (entry index + 1 or EMPTY/GONE, hash); a power of two of them. */
  #slots = new Int32Array(2 * 16);
  #mask = 15;
  /** Slots not EMPTY (live and GONE): what decides a rebuild. */
  #used = 0;
  /**
   * Entry `e` is `[user, owners]` at `2 * (e % CHUNK)` of chunk `e / CHUNK`:
   * fixed-size arrays, so growing to 1M users copies nothing (a growing
   * array copied itself ~20 times, ~70 MB of garbage at 1M).
   */
  #chunks: (string | readonly string[] | undefined)[][] = [];
  /** Entries ever handed out (the next fresh one). */
  #count = 0;
  /** Entry indexes freed by removals, reused by adds. */
  #free: number[] = [];
  #size = 0;
  #pairs = 0;

  /** Users held. */
  get size(): number {
    return this.#size;
  }

  /** (user, node) pairs held. */
  get pairs(): number {
    return this.#pairs;
  }

  /** The node id holding `user`, or ids when several do; `undefined` when none. */
  get(user: string): string | readonly string[] | undefined {
    const slot = this.#find(user, hash(user));
    return slot < 0 ? undefined : this.#ownersAt(this.#slots[slot]! - 1);
  }

  /** The node ids holding `user` (a new array). */
  ownersOf(user: string): string[] {
    const owners = this.get(user);
    if (owners === undefined) return [];
    return typeof owners === "string" ? [owners] : [...owners];
  }

  /** Whether `nodeId` holds `user`. */
  has(user: string, nodeId: string): boolean {
    const owners = this.get(user);
    return owners === nodeId ||
      (typeof owners === "object" && owners.includes(nodeId));
  }

  /** Records that `nodeId` holds `user`; false when it already did. */
  add(user: string, nodeId: string): boolean {
    const h = hash(user);
    const slot = this.#find(user, h);
    if (slot >= 0) {
      const entry = this.#slots[slot]! - 1;
      const owners = this.#ownersAt(entry);
      if (owners === nodeId) return false;
      if (typeof owners === "string") this.#put(entry, user, [owners, nodeId]);
      else if (owners.includes(nodeId)) return false;
      else this.#put(entry, user, [...owners, nodeId]);
      this.#pairs++;
      return true;
    }
    if ((this.#used + 1) * 2 > this.#mask + 1) this.#rebuild();
    let entry = this.#free.pop();
    if (entry === undefined) {
      entry = this.#count++;
      if ((entry & (CHUNK - 1)) === 0) this.#chunks.push(new Array(2 * CHUNK));
    }
    this.#put(entry, user, nodeId);
    const slots = this.#slots;
    const mask = this.#mask;
    let at = h & mask;
    while (slots[2 * at]! > EMPTY) at = (at + 1) & mask; // a GONE slot is reused
    if (slots[2 * at] === EMPTY) this.#used++;
    slots[2 * at] = entry + 1;
    slots[2 * at + 1] = h;
    this.#size++;
    this.#pairs++;
    return true;
  }

  /** Forgets that `nodeId` holds `user`; false when it did not. */
  remove(user: string, nodeId: string): boolean {
    const slot = this.#find(user, hash(user));
    if (slot < 0) return false;
    const entry = this.#slots[slot]! - 1;
    const owners = this.#ownersAt(entry);
    if (typeof owners === "string") {
      if (owners !== nodeId) return false;
      this.#slots[slot] = GONE;
      this.#put(entry, undefined, undefined);
      this.#free.push(entry);
      this.#size--;
    } else {
      const left = owners.filter((id) => id !== nodeId);
      if (left.length === owners.length) return false;
      this.#put(entry, user, left.length === 1 ? left[0]! : left);
    }
    this.#pairs--;
    return true;
  }

  /** Every (user, owners) entry. */
  *entries(): IterableIterator<[string, string | readonly string[]]> {
    for (let entry = 0; entry < this.#count; entry++) {
      const user = this.#userAt(entry);
      if (user !== undefined) yield [user, this.#ownersAt(entry)];
    }
  }

  /** Every user held. */
  *users(): IterableIterator<string> {
    for (const [user] of this.entries()) yield user;
  }

  /** A copy that changes independently of this one. */
  clone(): OwnerMap {
    const copy = new OwnerMap();
    copy.#slots = this.#slots.slice();
    copy.#mask = this.#mask;
    copy.#used = this.#used;
    copy.#chunks = this.#chunks.map((chunk) => chunk.slice());
    copy.#count = this.#count;
    copy.#free = this.#free.slice();
    copy.#size = this.#size;
    copy.#pairs = this.#pairs;
    return copy;
  }

  #userAt(entry: number): string | undefined {
    return this.#chunks[entry >>> CHUNK_BITS]![2 * (entry & (CHUNK - 1))] as
      | string
      | undefined;
  }

  #ownersAt(entry: number): string | readonly string[] {
    return this.#chunks[entry >>> CHUNK_BITS]![2 * (entry & (CHUNK - 1)) + 1]!;
  }

  #put(
    entry: number,
    user: string | undefined,
    owners: string | readonly string[] | undefined,
  ): void {
    const chunk = this.#chunks[entry >>> CHUNK_BITS]!;
    chunk[2 * (entry & (CHUNK - 1))] = user;
    chunk[2 * (entry & (CHUNK - 1)) + 1] = owners;
  }

  /** The slot of `user`'s entry, or -1. */
  #find(user: string, h: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let at = h & mask;; at = (at + 1) & mask) {
      const entry = slots[2 * at]!;
      if (entry === EMPTY) return -1;
      if (
        entry > 0 && slots[2 * at + 1] === h && this.#userAt(entry - 1) === user
      ) return 2 * at;
    }
  }

  /**
   * A table with no GONE slots, twice as big when the live entries would
   * fill more than a quarter of it (so at most half is ever used).
   */
  #rebuild(): void {
    const old = this.#slots;
    let capacity = this.#mask + 1;
    if ((this.#size + 1) * 4 > capacity) capacity *= 2;
    const slots = new Int32Array(2 * capacity);
    const mask = capacity - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i]! <= EMPTY) continue;
      let at = old[i + 1]! & mask;
      while (slots[2 * at] !== EMPTY) at = (at + 1) & mask;
      slots[2 * at] = old[i]!;
      slots[2 * at + 1] = old[i + 1]!;
    }
    this.#slots = slots;
    this.#mask = mask;
    this.#used = this.#size;
  }
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
        for (const [user, value] of owners.entries()) {
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
  const owners = new OwnerMap();
  for (const { user, nodeId } of pairs) owners.add(user, nodeId);
  return resetEvent(nodes, owners);
}
