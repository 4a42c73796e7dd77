/**
 * A node's users in the registry: recording a user's connections (the first
 * one waits for it), unrecording the last, the cluster-wide device limit,
 * users whose registration is late (their connections poll history), and
 * what happens when the keys come back after a lease loss. Looks in history
 * and device-limit checks are paced per node.
 *
 * @module
 */
import type { Config } from "../shared/config.ts";
import { deadline } from "../shared/deadline.ts";
import type { Logger } from "../shared/log.ts";
import type { NodeMembership, Registry } from "../shared/registry/mod.ts";
import type { ChannelSession } from "./channel_session.ts";
import { CATCH_UP_MS } from "./connect_flow.ts";
import { DeviceLimit } from "./device_limit.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { PacedUsers } from "./paced_users.ts";
import type { SessionManager } from "./session_manager.ts";
import { UnroutedUsers } from "./unrouted_users.ts";

/** Longest the first connection of a user waits for its registration. */
const REGISTER_WAIT_MS = 2000;

/**
 * Milliseconds a late registration keeps its user's sessions polling history
 * after it lands: routers learn it from their watch, which may re-list only
 * seconds after etcd is back.
 */
const UNROUTED_GRACE_MS = 10_000;

/**
 * Milliseconds after keys are back from a lease loss before the second look
 * in history: a push routed by a router whose watch had not yet seen the
 * keys again was only stored.
 */
const RESTORED_SECOND_LOOK_MS = 1500;

/** What {@link NodeRegistration} works with. */
export type NodeRegistrationOptions = {
  config: Config;
  registry: Registry;
  sessions: SessionManager;
  metrics: GatewayMetrics;
  log: Logger;
  /** Closes one of this node's connections with 4001. */
  evictLocal: (user: string, connId: string) => void;
};

/** See the module doc. */
export class NodeRegistration {
  readonly #options: NodeRegistrationOptions;
  readonly #deviceLimit: DeviceLimit;
  #membership: NodeMembership | undefined;
  #stopRestored: (() => void) | undefined;
  #secondLook: ReturnType<typeof setTimeout> | undefined;
  /** Looks in history of users' connections, at a bounded rate. */
  readonly #catchUps = new PacedUsers({
    serve: (user) => {
      for (const session of this.#options.sessions.channels(user)) {
        void session.catchUp();
      }
    },
  });
  /** Device-limit checks of users, at a bounded rate. */
  readonly #limitChecks = new PacedUsers({
    serve: (user) => void this.#enforceDeviceLimit(user),
    perTick: 200,
  });
  /** Users whose registration is late: their sessions poll history meanwhile. */
  readonly #unrouted = new UnroutedUsers({
    intervalMs: CATCH_UP_MS,
    graceMs: UNROUTED_GRACE_MS,
    catchUp: (user) => this.#catchUps.request(user),
  });

  constructor(options: NodeRegistrationOptions) {
    this.#options = options;
    const { config } = options;
    this.#deviceLimit = new DeviceLimit({
      nodeId: config.nodeId,
      maxDevices: config.maxDevices,
      registry: options.registry,
      internalSecret: config.internalSecret,
      urlPolicy: config.internalUrlPolicy,
      log: options.log,
      evictLocal: options.evictLocal,
    });
  }

  /** Works through `membership` from now on (the node joined). */
  attach(membership: NodeMembership): void {
    this.#membership = membership;
    this.#stopRestored = membership.onRestored(() => this.#restored());
  }

  /** Stops every pending look and check; the membership is the caller's. */
  detach(): void {
    this.#membership = undefined;
    this.#unrouted.clear();
    this.#catchUps.clear();
    this.#limitChecks.clear();
    clearTimeout(this.#secondLook);
    this.#stopRestored?.();
  }

  /** A router routed a push of `user` here: it knows this node holds it. */
  routed(user: string): void {
    this.#unrouted.routed(user);
  }

  /** Has the connections of `users` look in history, paced. */
  catchUp(users: Iterable<string>): void {
    this.#catchUps.requestAll(users);
  }

  /**
   * Records the user's connections on this node in the registry, then
   * enforces the device limit over the whole cluster. The first connection
   * of a user waits for the record (the router must know this node before
   * the history read); later ones do not.
   */
  async record(user: string): Promise<void> {
    const membership = this.#membership;
    if (!membership) throw new Error("node is not started");
    const devices = this.#options.sessions.channels(user).map((session) => ({
      connId: session.info.connId,
      connectedAt: session.info.connectedAt,
    }));
    const registered = membership.register(user, devices);
    try {
      await deadline(registered, REGISTER_WAIT_MS, "register");
    } catch (error) {
      // The membership keeps trying; the client is served meanwhile and the
      // router learns of it once the registry has the key. Until then its
      // pushes reach it from history.
      this.#options.metrics.registryErrors.inc({ op: "register" });
      this.#options.log.warn("registration slow or failed", { error });
      this.#unrouted.add(user, registered);
      // The limit could not be checked before the record was in: check it
      // once it is (other nodes may have recorded the user meanwhile).
      registered.then(() => this.#limitChecks.request(user), () => {});
      return;
    }
    await this.#enforceDeviceLimit(user);
  }

  /**
   * A connection left: record the user's remaining ones, or unregister the
   * user when it was the last (`outcome` of SessionManager.remove).
   */
  removed(session: ChannelSession, outcome: "removed" | "last"): void {
    const user = session.info.user;
    if (outcome === "removed") {
      void this.record(user);
      return;
    }
    this.#unrouted.remove(user);
    this.#membership?.unregister(user).catch((error) => {
      this.#options.metrics.registryErrors.inc({ op: "unregister" });
      this.#options.log.warn("unregistration failed", { error });
    });
  }

  /**
   * The registry lost this node's keys and has them again: pushes stored
   * meanwhile reached none of its connections, and other nodes may have
   * taken users past the device limit. Every user looks in history now and
   * once more after routers' watches caught up, and is checked against the
   * limit.
   */
  #restored(): void {
    const { sessions, log } = this.#options;
    const users = [...sessions.userIds()];
    log.info("keys restored: connections look in history", {
      users: users.length,
    });
    this.#catchUps.requestAll(users);
    this.#limitChecks.requestAll(users);
    clearTimeout(this.#secondLook);
    this.#secondLook = setTimeout(() => {
      this.#catchUps.requestAll(sessions.userIds());
    }, RESTORED_SECOND_LOOK_MS);
    Deno.unrefTimer(this.#secondLook);
  }

  /** Closes the user's connections past the cluster-wide device limit. */
  async #enforceDeviceLimit(user: string): Promise<void> {
    if (!this.#options.sessions.has(user)) return;
    await this.#deviceLimit.enforce(user).catch((error) => {
      this.#options.metrics.registryErrors.inc({ op: "device_limit" });
      this.#options.log.warn("cluster device limit not enforced", { error });
    });
  }
}
