/**
 * SessionManager → UserSession → ChannelSession: who is connected to this
 * node, and the per-node device limit (the oldest connection goes first).
 *
 * @module
 */
import type { ChannelSession } from "./channel_session.ts";

/** The connections of one user on this node, oldest first. */
export class UserSession {
  readonly user: string;
  readonly channels: ChannelSession[] = [];

  constructor(user: string) {
    this.user = user;
  }
}

/** Hooks a SessionManager calls as users come and go. */
export type SessionManagerOptions = {
  /** Connections one user may hold on this node; the oldest past it is evicted. */
  maxDevices: number;
};

/** Result of {@link SessionManager.add}. */
export type AddResult = {
  /** True when this is the user's first connection on this node. */
  firstOfUser: boolean;
  /** Connections past the limit, oldest first; the caller closes them. */
  excess: ChannelSession[];
};

/** Every connection on this node, grouped by user. */
export class SessionManager {
  readonly #maxDevices: number;
  readonly #users = new Map<string, UserSession>();
  #connections = 0;

  constructor(options: SessionManagerOptions) {
    this.#maxDevices = options.maxDevices;
  }

  get connections(): number {
    return this.#connections;
  }

  get users(): number {
    return this.#users.size;
  }

  /** Adds a connection; reports the connections now past the device limit. */
  add(session: ChannelSession): AddResult {
    const { user } = session.info;
    let userSession = this.#users.get(user);
    const firstOfUser = userSession === undefined;
    if (!userSession) {
      userSession = new UserSession(user);
      this.#users.set(user, userSession);
    }
    userSession.channels.push(session);
    this.#connections++;
    const over = userSession.channels.length - this.#maxDevices;
    return {
      firstOfUser,
      excess: over > 0 ? userSession.channels.slice(0, over) : [],
    };
  }

  /**
   * Removes a connection; removing one that is not held is not an error.
   * Tells whether it was absent, removed, or the user's last one here.
   */
  remove(session: ChannelSession): "absent" | "removed" | "last" {
    const userSession = this.#users.get(session.info.user);
    if (!userSession) return "absent";
    const index = userSession.channels.indexOf(session);
    if (index === -1) return "absent";
    userSession.channels.splice(index, 1);
    this.#connections--;
    if (userSession.channels.length > 0) return "removed";
    this.#users.delete(session.info.user);
    return "last";
  }

  /** The user's connections on this node, oldest first; `[]` when none. */
  channels(user: string): readonly ChannelSession[] {
    return this.#users.get(user)?.channels ?? [];
  }

  /** True while the user has at least one connection here. */
  has(user: string): boolean {
    return this.#users.has(user);
  }

  /** Ids of the users with a connection here. */
  userIds(): IterableIterator<string> {
    return this.#users.keys();
  }

  /** Every connection, user by user. */
  *all(): IterableIterator<ChannelSession> {
    for (const userSession of this.#users.values()) {
      yield* userSession.channels;
    }
  }
}
