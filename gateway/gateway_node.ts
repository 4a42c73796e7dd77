/**
 * GatewayNode: one node of the cluster. Owns the sessions of its sockets, its
 * membership in the registry, and the connect flow (register → welcome →
 * replay → live); implements the NodeApi routers call.
 *
 * @module
 */
import { InternalUrlPolicy } from "../shared/internal_url_policy.ts";
import type { Config } from "../shared/config.ts";
import { deadline } from "../shared/deadline.ts";
import { UnavailableError } from "../shared/errors.ts";
import type { History } from "../shared/history/mod.ts";
import type { Logger } from "../shared/log.ts";
import type {
  BroadcastRequest,
  BroadcastResult,
  CatchUpRequest,
  CatchUpResult,
  DeliverRequest,
  DeliverResult,
  DeviceInfo,
  KickRequest,
  KickResult,
  NodeApi,
  NodeStats,
} from "../shared/node_api.ts";
import { messageFrameJson } from "../shared/protocol.ts";
import type { NodeMembership, Registry } from "../shared/registry/mod.ts";
import {
  ChannelSession,
  type HistorySlice,
  type OrderedFrame,
  type SessionSocket,
} from "./channel_session.ts";
import { PacedUsers } from "./paced_users.ts";
import { RecentIds } from "./recent_ids.ts";
import {
  closeCodeLabel,
  createGatewayMetrics,
  type GatewayMetrics,
} from "./metrics.ts";
import type { prom } from "../shared/metrics.ts";
import { SendBudget } from "./send_budget.ts";
import { SessionManager } from "./session_manager.ts";
import { DeviceLimit } from "./device_limit.ts";
import {
  CATCH_UP_MS,
  connectChannel,
  historySlice,
  type Resume,
} from "./connect_flow.ts";
import { UnroutedUsers } from "./unrouted_users.ts";

/** What a GatewayNode is built from; only entry points choose the backends. */
export type GatewayNodeOptions = {
  config: Config;
  registry: Registry;
  history: History;
  log: Logger;
  /** Registry the node's metrics are defined on (never the global one). */
  metricsRegistry: prom.Registry;
};

/** Who is connecting, from a verified token. */
export type Claims = { user: string; device: string | null };

/** Longest a drain waits for its clients' close handshakes. */
const DRAIN_CLOSE_WAIT_MS = 5000;

/** Longest a gap fill waits for history before passing the gap over. */
const FILL_TIMEOUT_MS = 2000;

/**
 * Milliseconds a late registration keeps its user's sessions polling history
 * after it lands: routers learn it from their watch, which may re-list only
 * seconds after etcd is back.
 */
const UNROUTED_GRACE_MS = 10_000;

/** Longest a drain waits to mark the node draining in the registry. */
const MARK_DRAINING_TIMEOUT_MS = 2000;

/** How often the node's total send buffer is checked against its budget. */
const SEND_BUDGET_CHECK_MS = 250;

/**
 * Milliseconds after keys are back from a lease loss before the second look
 * in history: a push routed by a router whose watch had not yet seen the
 * keys again was only stored.
 */
const RESTORED_SECOND_LOOK_MS = 1500;

/** Writes this many frames before yielding, so sockets start writing (Deno sends when the JS turn ends). */
const FANOUT_CHUNK = 2000;

/** One gateway node. */
export class GatewayNode implements NodeApi {
  readonly config: Config;
  readonly sessions: SessionManager;
  readonly #registry: Registry;
  readonly #history: History;
  readonly #log: Logger;
  readonly metrics: GatewayMetrics;
  #membership: NodeMembership | undefined;
  #startedAt = 0;
  #draining = false;
  #drainDone: Promise<void> | undefined;
  readonly #deviceLimit: DeviceLimit;
  readonly #sendBudget: SendBudget;
  /** Every session's `onSend`: one function for the node, not one per socket. */
  readonly #touched: (session: ChannelSession) => void;
  #sendBudgetTimer: ReturnType<typeof setInterval> | undefined;
  /** Looks in history of users' connections, at a bounded rate. */
  readonly #catchUps = new PacedUsers({
    serve: (user) => {
      for (const session of this.sessions.channels(user)) {
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
  /** Broadcast ids written lately: a router's retry does not write one twice. */
  readonly #broadcasts = new RecentIds(1024);
  #stopRestored: (() => void) | undefined;
  #secondLook: ReturnType<typeof setTimeout> | undefined;

  constructor(options: GatewayNodeOptions) {
    this.config = options.config;
    this.#registry = options.registry;
    this.#history = options.history;
    this.#log = options.log.with({ nodeId: options.config.nodeId });
    this.metrics = createGatewayMetrics(options.metricsRegistry, {
      connections: () => this.sessions.connections,
      users: () => this.sessions.users,
      sendBufferBytes: () => this.bufferedBytes,
      ready: () => this.ready,
    });
    this.#deviceLimit = new DeviceLimit({
      nodeId: this.config.nodeId,
      maxDevices: this.config.maxDevices,
      registry: this.#registry,
      internalSecret: this.config.internalSecret,
      urlPolicy: new InternalUrlPolicy(this.config.internalNetworks),
      log: this.#log,
      evictLocal: (user, connId) =>
        void this.kick({ user, connId, reason: "evicted" }),
    });
    this.sessions = new SessionManager({
      maxDevices: options.config.maxDevices,
    });
    this.#sendBudget = new SendBudget(this.config.nodeSendBufferBytes);
    const budget = this.#sendBudget;
    this.#touched = (session) => budget.touched(session);
  }

  get nodeId(): string {
    return this.config.nodeId;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** True from joining the registry until the node stops. */
  get joined(): boolean {
    return this.#membership !== undefined;
  }

  /** True once registered, while the membership is healthy and not draining. */
  get ready(): boolean {
    return this.#membership !== undefined && this.#membership.healthy &&
      !this.#draining;
  }

  /** Throws an UnavailableError naming why the node should get no new clients. */
  assertReady(): void {
    if (this.#draining) throw new UnavailableError("node is draining");
    if (!this.#membership) throw new UnavailableError("node is not registered");
    if (!this.#membership.healthy) {
      throw new UnavailableError("node's registry lease is being renewed");
    }
  }

  /** Bytes waiting in all send buffers of this node. */
  get bufferedBytes(): number {
    let total = 0;
    for (const session of this.sessions.all()) total += session.bufferedBytes;
    return total;
  }

  /** Joins the registry; the node takes clients from then on. */
  async start(urls: { url: string; internalUrl: string }): Promise<void> {
    this.#startedAt = Date.now();
    this.#membership = await this.#registry.join({
      nodeId: this.nodeId,
      url: urls.url,
      internalUrl: urls.internalUrl,
      startedAt: this.#startedAt,
      draining: false,
    });
    this.#log.info("node registered", { url: urls.url });
    this.#stopRestored = this.#membership.onRestored(() => this.#restored());
    if (this.#sendBudgetTimer === undefined) {
      this.#sendBudgetTimer = setInterval(
        () => this.#enforceSendBudget(),
        SEND_BUDGET_CHECK_MS,
      );
      Deno.unrefTimer(this.#sendBudgetTimer);
    }
  }

  /**
   * The registry lost this node's keys and has them again: pushes stored
   * meanwhile reached none of its connections, and other nodes may have
   * taken users past the device limit. Every user looks in history now and
   * once more after routers' watches caught up, and is checked against the
   * limit.
   */
  #restored(): void {
    const users = [...this.sessions.userIds()];
    this.#log.info("keys restored: connections look in history", {
      users: users.length,
    });
    this.#catchUps.requestAll(users);
    this.#limitChecks.requestAll(users);
    clearTimeout(this.#secondLook);
    this.#secondLook = setTimeout(() => {
      this.#catchUps.requestAll(this.sessions.userIds());
    }, RESTORED_SECOND_LOOK_MS);
    Deno.unrefTimer(this.#secondLook);
  }

  /** Closes the slowest consumers while the node's send buffers are over budget. */
  #enforceSendBudget(): void {
    const shed = this.#sendBudget.enforce();
    if (shed > 0) {
      this.#log.warn(
        "send-buffer budget exceeded: closed the slowest clients",
        {
          closed: shed,
          budgetBytes: this.config.nodeSendBufferBytes,
        },
      );
    }
  }

  /**
   * Takes an upgraded socket of a verified user. The session buffers live
   * deliveries from this moment; on `open` the connect flow replays history
   * and switches it live.
   */
  attach(
    socket: WebSocket & SessionSocket,
    claims: Claims,
    resume: Resume,
  ): ChannelSession {
    const session = new ChannelSession(
      {
        connId: crypto.randomUUID(),
        user: claims.user,
        device: claims.device,
        connectedAt: Date.now(),
      },
      socket,
      {
        sendBufferBytes: this.config.sendBufferBytes,
        inboundRate: this.config.inboundRate,
        onSend: this.#touched,
        onClose: (closed, reason) => {
          this.metrics.evictions.inc({ reason });
          this.#remove(closed);
        },
        fill: async (after): Promise<HistorySlice> => {
          const limit = this.config.historySize;
          const read = await deadline(
            this.#history.read(claims.user, after, limit),
            FILL_TIMEOUT_MS,
            "history read",
          );
          return historySlice(read, after, limit, claims.device);
        },
        onWrite: (frame, live) => {
          this.metrics.delivered.inc();
          // Replayed history is as old as the gap it fills: not a latency.
          if (live) {
            this.metrics.deliverySeconds.observe(
              (Date.now() - frame.ts) / 1000,
            );
          }
        },
        onGap: (error) => {
          this.metrics.replayErrors.inc();
          this.#log.warn("history unreadable for a gap: trying again", {
            error,
          });
        },
        onAnnounce: (announcement) =>
          this.metrics.announcements.inc({ type: announcement.type }),
        onDuplicate: () => this.metrics.duplicatesDropped.inc(),
      },
    );
    socket.addEventListener("open", () => {
      if (this.#draining) {
        session.close("draining");
        return;
      }
      this.metrics.connects.inc();
      const { firstOfUser, excess } = this.sessions.add(session);
      for (const old of excess) old.close("evicted");
      // Other connections of the user here: update the record in the
      // background (the first one is recorded by the connect flow).
      if (!firstOfUser) void this.#record(claims.user);
      connectChannel(session, resume, {
        nodeId: this.nodeId,
        history: this.#history,
        historySize: this.config.historySize,
        register: firstOfUser ? () => this.#record(claims.user) : undefined,
        log: this.#log,
        metrics: this.metrics,
      }).catch((error) => {
        this.#log.error("connect flow failed", { error });
        session.close("policy");
      });
    });
    socket.addEventListener("close", (event) => {
      this.metrics.disconnects.inc({ code: closeCodeLabel(event.code) });
      session.socketEnded();
      this.#remove(session);
    });
    return session;
  }

  deliver(request: DeliverRequest): Promise<DeliverResult> {
    this.metrics.nodeRequests.inc();
    return this.#fanout(request);
  }

  async broadcast(request: BroadcastRequest): Promise<BroadcastResult> {
    // A retry of a broadcast this node already wrote (the router's request
    // arrived, its answer did not) writes nothing again.
    if (!this.#broadcasts.add(request.id)) return { devices: 0 };
    const frame: OrderedFrame = {
      seq: undefined,
      id: request.id,
      broadcast: true,
      ts: request.ts,
      json: messageFrameJson({ ...request, broadcast: true }, request.dataJson),
    };
    let devices = 0;
    let written = 0;
    for (const session of [...this.sessions.all()]) {
      if (session.deliver(frame)) devices++;
      if (++written % FANOUT_CHUNK === 0) await nextTurn();
    }
    // One broadcast can fill every buffer at once: check now, not at the tick.
    this.#enforceSendBudget();
    return { devices };
  }

  presence(user: string): Promise<DeviceInfo[]> {
    return Promise.resolve(
      this.sessions.channels(user).map((session) => ({
        connId: session.info.connId,
        nodeId: this.nodeId,
        device: session.info.device,
        connectedAt: session.info.connectedAt,
      })),
    );
  }

  kick(request: KickRequest): Promise<KickResult> {
    let closed = 0;
    for (const session of [...this.sessions.channels(request.user)]) {
      const { device, connId } = session.info;
      if (request.device !== undefined && device !== request.device) continue;
      if (request.connId !== undefined && connId !== request.connId) continue;
      session.close(request.reason ?? "disconnected");
      closed++;
    }
    return Promise.resolve({ closed });
  }

  catchUp(request: CatchUpRequest): Promise<CatchUpResult> {
    let sessions = 0;
    for (const user of request.users) {
      sessions += this.sessions.channels(user).length;
    }
    this.#catchUps.requestAll(request.users);
    return Promise.resolve({ sessions });
  }

  stats(): Promise<NodeStats> {
    return Promise.resolve({
      nodeId: this.nodeId,
      connections: this.sessions.connections,
      users: this.sessions.users,
      draining: this.#draining,
      startedAt: this.#startedAt,
    });
  }

  /**
   * Drains the node: marks it draining in the registry (routers and balancers
   * stop sending new clients), closes clients in paced batches with 1012 so
   * they reconnect elsewhere without a thundering herd, then leaves.
   */
  drain(
    options: { batch?: number; intervalMs?: number } = {},
  ): Promise<void> {
    // Every caller (SIGTERM, the internal API, ctl) waits for the same drain.
    this.#drainDone ??= this.#drain(options);
    return this.#drainDone;
  }

  async #drain(
    options: { batch?: number; intervalMs?: number },
  ): Promise<void> {
    const { batch = 500, intervalMs = 100 } = options;
    this.#draining = true;
    this.#log.info("drain started", { connections: this.sessions.connections });
    const membership = this.#membership;
    if (membership) {
      // With etcd down the flag would wait for it: the clients go anyway
      // (readyz and /ws refuse new ones already), and the lease takes the
      // keys when it ends.
      await deadline(
        membership.setDraining(true),
        MARK_DRAINING_TIMEOUT_MS,
        "mark draining",
      ).catch((error) =>
        this.#log.warn("could not mark node draining", { error })
      );
    }
    const closing: Promise<void>[] = [];
    while (this.sessions.connections > 0) {
      const sessions = [...this.sessions.all()].slice(0, batch);
      for (const session of sessions) {
        session.close("draining");
        closing.push(session.ended);
      }
      if (this.sessions.connections > 0) {
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    }
    // Wait for the close handshakes, so a server shut down right after the
    // drain does not replace our 1012 with its own 1001.
    await deadline(Promise.all(closing), DRAIN_CLOSE_WAIT_MS, "drain close")
      .catch(() =>
        this.#log.warn("some clients did not finish closing", {
          clients: closing.length,
        })
      );
    await this.stop();
    this.#log.info("drain finished");
  }

  /** Leaves the registry at once (its keys vanish); open sockets are left to the caller. */
  async stop(): Promise<void> {
    this.#unrouted.clear();
    this.#catchUps.clear();
    this.#limitChecks.clear();
    clearTimeout(this.#secondLook);
    this.#stopRestored?.();
    clearInterval(this.#sendBudgetTimer);
    this.#sendBudgetTimer = undefined;
    const membership = this.#membership;
    this.#membership = undefined;
    await membership?.leave();
  }

  async #fanout(request: DeliverRequest): Promise<DeliverResult> {
    // No prototype: user ids such as "valueOf" or "__proto__" are plain keys.
    const devices: Record<string, number> = Object.create(null);
    let written = 0;
    for (const { user, seq, epoch } of request.targets) {
      const channels = this.sessions.channels(user);
      let count = 0;
      if (channels.length > 0) {
        this.#unrouted.routed(user);
        const stored = seq > 0 ? seq : undefined;
        const frame: OrderedFrame = {
          seq: stored,
          epoch: stored === undefined ? undefined : epoch,
          id: request.id,
          ts: request.ts,
          json: messageFrameJson(
            { id: request.id, ts: request.ts, seq: stored },
            request.dataJson,
          ),
        };
        for (const session of [...channels]) {
          if (
            request.device !== undefined &&
            session.info.device !== request.device
          ) {
            continue;
          }
          if (session.deliver(frame)) count++;
        }
        written += count;
        if (written >= FANOUT_CHUNK) {
          written = 0;
          await nextTurn();
        }
      }
      devices[user] = (devices[user] ?? 0) + count;
    }
    return { devices };
  }

  /**
   * Records the user's connections on this node in the registry, then
   * enforces the device limit over the whole cluster. The first connection
   * of a user waits for the record (the router must know this node before
   * the history read); later ones do not.
   */
  async #record(user: string): Promise<void> {
    const membership = this.#membership;
    if (!membership) throw new Error("node is not started");
    const devices = this.sessions.channels(user).map((session) => ({
      connId: session.info.connId,
      connectedAt: session.info.connectedAt,
    }));
    const registered = membership.register(user, devices);
    try {
      await deadline(registered, 2000, "register");
    } catch (error) {
      // The membership keeps trying; the client is served meanwhile and the
      // router learns of it once the registry has the key. Until then its
      // pushes reach it from history.
      this.metrics.registryErrors.inc({ op: "register" });
      this.#log.warn("registration slow or failed", { error });
      this.#unrouted.add(user, registered);
      // The limit could not be checked before the record was in: check it
      // once it is (other nodes may have recorded the user meanwhile).
      registered.then(() => this.#limitChecks.request(user), () => {});
      return;
    }
    await this.#enforceDeviceLimit(user);
  }

  /** Closes the user's connections past the cluster-wide device limit. */
  async #enforceDeviceLimit(user: string): Promise<void> {
    if (!this.sessions.has(user)) return;
    await this.#deviceLimit.enforce(user).catch((error) => {
      this.metrics.registryErrors.inc({ op: "device_limit" });
      this.#log.warn("cluster device limit not enforced", { error });
    });
  }

  #remove(session: ChannelSession): void {
    const outcome = this.sessions.remove(session);
    if (outcome === "absent") return;
    const user = session.info.user;
    if (outcome === "removed") {
      void this.#record(user);
      return;
    }
    this.#unrouted.remove(user);
    this.#membership?.unregister(user).catch((error) => {
      this.metrics.registryErrors.inc({ op: "unregister" });
      this.#log.warn("unregistration failed", { error });
    });
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
