/**
 * The sockets of a node: a verified upgrade becomes a session, its socket's
 * events go to one handler for the whole node (the session is the socket's
 * listener object, so a connection holds no closures of its own), `open`
 * starts the connect flow, `close` forgets the session, and every
 * connection's token expiry is watched by one {@link TokenExpiry}.
 *
 * @module
 */
import type { Config } from "../shared/config.ts";
import type { History } from "../shared/history/mod.ts";
import type { Logger } from "../shared/log.ts";
import {
  type ChannelInfo,
  type ChannelOptions,
  ChannelSession,
  type SessionSocket,
} from "./channel_session.ts";
import { CatchUpQueue } from "./catch_up_queue.ts";
import { CATCH_UP_MS, connectChannel, type Resume } from "./connect_flow.ts";
import { closeCodeLabel, type GatewayMetrics } from "./metrics.ts";
import type { NodeRegistration } from "./node_registration.ts";
import type { SessionManager } from "./session_manager.ts";
import { TokenExpiry } from "./token_expiry.ts";

/** Handles one client frame of a session (the /ws handler's frame parser). */
export type FrameHandler = (session: ChannelSession, data: unknown) => void;

/** What the sockets of a node need from it. */
export type NodeSocketsDeps = {
  config: Config;
  history: History;
  log: Logger;
  metrics: GatewayMetrics;
  sessions: SessionManager;
  registration: NodeRegistration;
  /** The options every session shares, without `onSocketEvent`. */
  sessionOptions: ChannelOptions;
  /** True while the node drains: an opening socket is closed at once. */
  draining: () => boolean;
  /** The socket closed: the node forgets the session. */
  remove: (session: ChannelSession) => void;
};

/** Sessions from upgraded sockets, and their events. */
export class NodeSockets {
  /** Token expiry of every connection of the node. */
  readonly tokenExpiry: TokenExpiry;
  readonly #deps: NodeSocketsDeps;
  readonly #options: ChannelOptions;
  /** Where each attached socket resumes, until it opens. */
  readonly #opening = new Map<ChannelSession, Resume>();
  readonly #catchUps = new CatchUpQueue(CATCH_UP_MS);
  #frames: FrameHandler | undefined;

  constructor(deps: NodeSocketsDeps) {
    this.#deps = deps;
    this.tokenExpiry = new TokenExpiry({
      skewSeconds: deps.config.jwtClockSkew,
    });
    this.#options = {
      ...deps.sessionOptions,
      onSocketEvent: (session, event) => this.#event(session, event),
    };
  }

  /** A session for an upgraded socket; it becomes the socket's listener. */
  attach(
    socket: WebSocket & SessionSocket,
    info: ChannelInfo,
    resume: Resume,
  ): ChannelSession {
    const session = new ChannelSession(info, socket, this.#options);
    this.#opening.set(session, resume);
    socket.addEventListener("open", session);
    socket.addEventListener("message", session);
    socket.addEventListener("close", session);
    return session;
  }

  /** `session` is gone from the node: no expiry, no catch-up for it. */
  forget(session: ChannelSession): void {
    this.tokenExpiry.forget(session);
    this.#catchUps.delete(session);
  }

  /** Client frames of every session go to `handler`. */
  handleFrames(handler: FrameHandler): void {
    this.#frames = handler;
  }

  #event(session: ChannelSession, event: Event): void {
    switch (event.type) {
      case "message":
        this.#frames?.(session, (event as MessageEvent).data);
        return;
      case "open":
        return this.#opened(session);
      case "close":
        this.#opening.delete(session);
        this.#deps.metrics.disconnects.inc({
          code: closeCodeLabel((event as CloseEvent).code),
        });
        session.socketEnded();
        this.#deps.remove(session);
    }
  }

  /** The socket is open: the connect flow starts. */
  #opened(session: ChannelSession): void {
    const deps = this.#deps;
    const resume = this.#opening.get(session) ??
      { since: undefined, epoch: undefined };
    this.#opening.delete(session);
    if (deps.draining()) {
      session.close("draining");
      return;
    }
    deps.metrics.connects.inc();
    const { user } = session.info;
    const { firstOfUser, excess } = deps.sessions.add(session);
    for (const old of excess) old.close("evicted");
    // Other connections of the user here: update the record in the
    // background (the first one is recorded by the connect flow).
    if (!firstOfUser) void deps.registration.record(user);
    connectChannel(session, resume, {
      nodeId: deps.config.nodeId,
      history: deps.history,
      historySize: deps.config.historySize,
      register: firstOfUser ? () => deps.registration.record(user) : undefined,
      log: deps.log,
      metrics: deps.metrics,
      scheduleCatchUp: (s) => this.#catchUps.add(s),
    }).catch((error) => {
      deps.log.error("connect flow failed", { error });
      session.close("policy");
    });
  }
}
