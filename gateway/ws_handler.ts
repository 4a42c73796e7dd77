/**
 * `/ws`: the token is checked before the upgrade (a bad one gets HTTP 401 and
 * no socket), then client frames are parsed and limited. The token comes in
 * the `wsgw.token.<jwt>` subprotocol (beside `wsgw.v1`, which the answer
 * picks), else in `Authorization: Bearer` (the client's probe), else in
 * `?token=` (older clients). Refusals carry CORS headers and expose
 * `Retry-After`, so a page of another origin can read them. The connection
 * ends at the token's `exp` unless a `token` frame renews it
 * (token_lifetime.ts). Served directly with
 * `Deno.upgradeWebSocket`, before any Hono app: Hono middleware that sets
 * headers throws on the upgrade response (DESIGN.md pitfalls).
 *
 * @module
 */
import {
  BadRequestError,
  HttpError,
  OverloadedError,
  RateLimitedError,
  UnavailableError,
} from "../shared/errors.ts";
import { TokenVerifier } from "../shared/token.ts";
import type { ChannelSession } from "./channel_session.ts";
import { ConnectGuard } from "./connect_guard.ts";
import type { Resume } from "./connect_flow.ts";
import { preflightResponse } from "./cors.ts";
import type { GatewayNode } from "./gateway_node.ts";

/** Seconds without a pong to Deno's own pings before the socket is dropped. */
const IDLE_TIMEOUT = 60;
const MAX_EPOCH_LENGTH = 128;
/** The subprotocol wsgw clients offer and the gateway picks. */
export const WS_PROTOCOL = "wsgw.v1";
/** Prefix of the subprotocol carrying the token. */
export const TOKEN_PROTOCOL_PREFIX = "wsgw.token.";

/** Handles one request of the public server. */
export type PublicHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo,
) => Response | Promise<Response>;

/**
 * The public server of a node: `/ws` goes to the socket handler of `node`,
 * everything else to `app` (health, metrics, client module, push API).
 */
export function createPublicHandler(
  node: GatewayNode,
  app: { fetch: (request: Request) => Response | Promise<Response> },
): PublicHandler {
  const ws = createWsHandler({
    node,
    verifier: TokenVerifier.fromConfig(node.config),
    guard: new ConnectGuard(node.config),
  });
  return (request, info) =>
    new URL(request.url).pathname === "/ws"
      ? ws(request, info)
      : app.fetch(request);
}

/** What the `/ws` handler needs. */
export type WsHandlerDeps = {
  node: GatewayNode;
  verifier: TokenVerifier;
  guard: ConnectGuard;
};

/** Creates the handler of `GET /ws`. */
export function createWsHandler(deps: WsHandlerDeps): PublicHandler {
  const refused = (error: unknown) => {
    deps.node.metrics.authFailures.inc({
      reason: error instanceof HttpError ? error.code : "unknown",
    });
    throw error;
  };
  const { node, verifier } = deps;
  const maxBytes = node.config.maxMessageBytes;
  // One frame handler for every socket of the node (no closure per socket).
  const renew = (session: ChannelSession, token: unknown) =>
    node.tokenExpiry.renew(session, token, verifier);
  node.handleFrames((session, data) => onFrame(session, data, maxBytes, renew));
  return async (request, info) => {
    const origin = request.headers.get("origin");
    if (request.method === "OPTIONS") {
      return preflightResponse();
    }
    try {
      if (deps.node.draining) {
        throw new UnavailableError("node is draining: connect to another node");
      }
      // Before the node is in the registry no router can route to it, and
      // the connect flow could not record the user.
      if (!deps.node.joined) {
        throw new UnavailableError(
          "node has not joined the cluster yet: connect to another node",
        );
      }
      // Read before the upgrade: the request is closed after it.
      const peer = info.remoteAddr as Partial<Deno.NetAddr>;
      try {
        deps.guard.check(origin, (info.remoteAddr as Deno.NetAddr).hostname);
      } catch (error) {
        refused(error);
      }
      const url = new URL(request.url);
      const resume = parseResume(url.searchParams);
      const offered = offeredProtocols(request);
      const token = tokenOf(request, offered, url.searchParams);
      const claims = await deps.verifier.verify(token).catch(refused);
      // The token is checked before the upgrade header, so a browser client
      // can probe with a plain GET whether a failed socket was a 401.
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        throw new HttpError(
          "upgrade_required",
          426,
          "this endpoint takes WebSocket connections only",
        );
      }
      const { socket, response } = Deno.upgradeWebSocket(request, {
        idleTimeout: IDLE_TIMEOUT,
        // A browser fails a socket whose answer picks none of its offers.
        ...(offered.includes(WS_PROTOCOL) ? { protocol: WS_PROTOCOL } : {}),
      });
      const { user, device, expiresAt } = claims;
      const session = deps.node.attach(
        socket,
        peer.hostname
          ? { user, device, remoteAddress: peer.hostname }
          : { user, device },
        resume,
      );
      node.tokenExpiry.expireAt(session, expiresAt);
      return response;
    } catch (error) {
      if (error instanceof HttpError) {
        // Readable from any origin, a forbidden one included: the body holds
        // no secret, and the browser client reads the status (and
        // Retry-After) of a refused connection from it. The allowlist keeps
        // sockets out, not the reason why.
        return Response.json(
          { error: { code: error.code, message: error.message } },
          {
            status: error.status,
            headers: {
              "access-control-allow-origin": "*",
              "access-control-expose-headers": "retry-after",
              ...(error instanceof RateLimitedError ||
                  error instanceof OverloadedError
                ? { "retry-after": String(error.retryAfter) }
                : {}),
            },
          },
        );
      }
      throw error;
    }
  };
}

/** The subprotocols a request offers, trimmed. */
function offeredProtocols(request: Request): string[] {
  const header = request.headers.get("sec-websocket-protocol");
  return header === null ? [] : header.split(",").map((p) => p.trim());
}

/** The token: subprotocol, then `Authorization: Bearer`, then `?token=`. */
function tokenOf(
  request: Request,
  offered: readonly string[],
  params: URLSearchParams,
): string | null {
  const carried = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  if (carried !== undefined) return carried.slice(TOKEN_PROTOCOL_PREFIX.length);
  const bearer = /^Bearer\s+(\S+)$/i.exec(
    request.headers.get("authorization") ?? "",
  );
  return bearer?.[1] ?? params.get("token");
}

function parseResume(params: URLSearchParams): Resume {
  const sinceText = params.get("since");
  let since: number | undefined;
  if (sinceText !== null && sinceText !== "") {
    since = Number(sinceText);
    if (!/^\d+$/.test(sinceText) || !Number.isSafeInteger(since)) {
      throw new BadRequestError(
        `since must be a non-negative integer, got "${sinceText.slice(0, 32)}"`,
      );
    }
  }
  const epoch = params.get("epoch") || undefined;
  if (epoch !== undefined && epoch.length > MAX_EPOCH_LENGTH) {
    throw new BadRequestError(
      `epoch must be at most ${MAX_EPOCH_LENGTH} characters`,
    );
  }
  return { since, epoch };
}

/**
 * Handles one client frame: ping → pong; token → renew the connection's
 * token; anything else is an error frame.
 */
function onFrame(
  session: ChannelSession,
  data: unknown,
  maxBytes: number,
  renew: (session: ChannelSession, token: unknown) => Promise<void>,
): void {
  if (session.closed || !session.admitInbound()) return;
  if (typeof data !== "string") {
    if (byteLength(data) > maxBytes) return session.close("policy");
    return reject(session, "binary_unsupported", "frames must be JSON text");
  }
  if (data.length > maxBytes) return session.close("policy");
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch {
    return reject(session, "invalid_json", "frame is not valid JSON");
  }
  const type = typeof frame === "object" && frame !== null
    ? (frame as { type?: unknown }).type
    : undefined;
  if (type === "ping") return session.sendFrame({ type: "pong" });
  if (type === "token") {
    void renew(session, (frame as { token?: unknown }).token);
    return;
  }
  reject(
    session,
    "unknown_type",
    typeof type === "string"
      ? `unknown frame type "${type.slice(0, 32)}"`
      : "frame must be an object with a string type",
  );
}

function reject(session: ChannelSession, code: string, message: string): void {
  session.sendFrame({ type: "error", code, message });
  session.strike();
}

function byteLength(data: unknown): number {
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (data instanceof Blob) return data.size;
  return 0;
}
