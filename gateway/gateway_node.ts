/**
 * GatewayNode: one node of the cluster. Owns the sessions of its sockets, its
 * membership in the registry, and the connect flow (register → welcome →
 * replay → live); implements the NodeApi routers call.
 *
 * @module
 */
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
import type { NodeMembership, Registry } from "../shared/registry/mod.ts";
import type { ChannelSession, SessionSocket } from "./channel_session.ts";
import { sessionOptions } from "./session_hooks.ts";
import { NodeDelivery } from "./node_delivery.ts";
import { deviceOf, statsExtras } from "./node_stats.ts";
import { closeForDrain } from "./node_drain.ts";
import { NodeRegistration } from "./node_registration.ts";
import { createGatewayMetrics, type GatewayMetrics } from "./metrics.ts";
import type { prom } from "../shared/metrics.ts";
import { SendBudget } from "./send_budget.ts";
import { SessionManager } from "./session_manager.ts";
import type { Resume } from "./connect_flow.ts";
import { type FrameHandler, NodeSockets } from "./node_sockets.ts";
import type { TokenExpiry } from "./token_expiry.ts";

/** What a GatewayNode is built from; only entry points choose the backends. */
export type GatewayNodeOptions = {
  config: Config;
  registry: Registry;
  history: History;
  log: Logger;
  /** Registry the node's metrics are defined on (never the global one). */
  metricsRegistry: prom.Registry;
};

/** Who is connecting, from a verified token, and from where when known. */
export type Claims = {
  user: string;
  device: string | null;
  remoteAddress?: string;
};

/** Longest a drain waits to mark the node draining in the registry. */
const MARK_DRAINING_TIMEOUT_MS = 2000;

/** How often the node's total send buffer is checked against its budget. */
const SEND_BUDGET_CHECK_MS = 250;

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
  readonly #sendBudget: SendBudget;
  #sendBudgetTimer: ReturnType<typeof setInterval> | undefined;
  readonly #registration: NodeRegistration;
  readonly #delivery: NodeDelivery;
  readonly #sockets: NodeSockets;

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
    this.sessions = new SessionManager({
      maxDevices: options.config.maxDevices,
    });
    this.#sendBudget = new SendBudget(this.config.nodeSendBufferBytes);
    const budget = this.#sendBudget;
    this.#registration = new NodeRegistration({
      config: this.config,
      registry: this.#registry,
      sessions: this.sessions,
      metrics: this.metrics,
      log: this.#log,
      evictLocal: (user, connId) =>
        void this.kick({ user, connId, reason: "evicted" }),
    });
    this.#sockets = new NodeSockets({
      config: this.config,
      history: this.#history,
      log: this.#log,
      metrics: this.metrics,
      sessions: this.sessions,
      registration: this.#registration,
      sessionOptions: sessionOptions({
        config: this.config,
        history: this.#history,
        metrics: this.metrics,
        log: this.#log,
        closed: (session) => this.#remove(session),
        sent: (session) => budget.touched(session),
      }),
      draining: () => this.#draining,
      remove: (session) => this.#remove(session),
    });
    this.#delivery = new NodeDelivery({
      sessions: this.sessions,
      metrics: this.metrics,
      routed: (user) => this.#registration.routed(user),
      catchUp: (users) => this.#registration.catchUp(users),
      enforceSendBudget: () => this.#enforceSendBudget("bounds first"),
    });
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
    this.#registration.attach(this.#membership);
    if (this.#sendBudgetTimer === undefined) {
      this.#sendBudgetTimer = setInterval(
        () => this.#enforceSendBudget(),
        SEND_BUDGET_CHECK_MS,
      );
      Deno.unrefTimer(this.#sendBudgetTimer);
    }
  }

  /**
   * Closes the slowest consumers while the node's send buffers are over
   * budget; "bounds first" reads sockets only when their bounds could be.
   */
  #enforceSendBudget(how: "read" | "bounds first" = "read"): void {
    const shed = how === "read"
      ? this.#sendBudget.enforce()
      : this.#sendBudget.enforceIfBoundsOver();
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
   * and switches it live (node_sockets.ts).
   */
  attach(
    socket: WebSocket & SessionSocket,
    claims: Claims,
    resume: Resume,
  ): ChannelSession {
    const { user, device, remoteAddress } = claims;
    const connId = crypto.randomUUID();
    const connectedAt = Date.now();
    // One literal of a fixed shape: a spread of the claims built the object
    // with its properties out of line (one more array per connection).
    const info = remoteAddress === undefined
      ? { connId, user, device, connectedAt }
      : { connId, user, device, connectedAt, remoteAddress };
    return this.#sockets.attach(socket, info, resume);
  }

  /** Client frames of every session go to `handler` (set once, by /ws). */
  handleFrames(handler: FrameHandler): void {
    this.#sockets.handleFrames(handler);
  }

  /** Token expiry of every connection here. */
  get tokenExpiry(): TokenExpiry {
    return this.#sockets.tokenExpiry;
  }

  deliver(request: DeliverRequest): Promise<DeliverResult> {
    return this.#delivery.deliver(request);
  }

  broadcast(request: BroadcastRequest): Promise<BroadcastResult> {
    return this.#delivery.broadcast(request);
  }

  presence(user: string): Promise<DeviceInfo[]> {
    return Promise.resolve(
      this.sessions.channels(user).map((s) => deviceOf(s.info, this.nodeId)),
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
    return this.#delivery.catchUp(request);
  }

  async stats(): Promise<NodeStats> {
    return {
      nodeId: this.nodeId,
      connections: this.sessions.connections,
      users: this.sessions.users,
      draining: this.#draining,
      startedAt: this.#startedAt,
      ...await statsExtras(this.metrics, this.#membership),
    };
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
    await closeForDrain(
      this.sessions,
      { ...options, noticeMs: this.config.drainNoticeMs },
      this.#log,
    );
    await this.stop();
    this.#log.info("drain finished");
  }

  /** Leaves the registry at once (its keys vanish); open sockets are left to the caller. */
  async stop(): Promise<void> {
    this.#registration.detach();
    clearInterval(this.#sendBudgetTimer);
    this.#sendBudgetTimer = undefined;
    const membership = this.#membership;
    this.#membership = undefined;
    await membership?.leave();
  }

  #remove(session: ChannelSession): void {
    this.#sockets.forget(session);
    const outcome = this.sessions.remove(session);
    if (outcome !== "absent") this.#registration.removed(session, outcome);
  }
}
