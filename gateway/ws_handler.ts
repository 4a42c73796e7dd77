/**
 * `/ws`: the token is checked before the upgrade (a bad one gets HTTP 401 and
 * no socket), then client frames are parsed and limited. Served directly with
 * `Deno.upgradeWebSocket`, before any Hono app: Hono middleware that sets
 * headers throws on the upgrade response (DESIGN.md pitfalls).
 *
 * @module
 */
import {
  BadRequestError,
  OverloadedError,
  RateLimitedError,
  UnavailableError,
  WsgwError,
} from "../shared/errors.ts";
import { TokenVerifier } from "../shared/token.ts";
import type { ChannelSession } from "./channel_session.ts";
import { ConnectGuard } from "./connect_guard.ts";
import type { Resume } from "./connect_flow.ts";
import type { GatewayNode } from "./gateway_node.ts";

/** Seconds without a pong to Deno's own pings before the socket is dropped. */
const IDLE_TIMEOUT = 60;
const MAX_EPOCH_LENGTH = 128;

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
      reason: error instanceof WsgwError ? error.code : "unknown",
    });
    throw error;
  };
  return async (request, info) => {
    try {
      if (deps.node.draining) {
        throw new UnavailableError("node is draining: connect to another node");
      }
      try {
        deps.guard.check(
          request.headers.get("origin"),
          (info.remoteAddr as Deno.NetAddr).hostname,
        );
      } catch (error) {
        refused(error);
      }
      const params = new URL(request.url).searchParams;
      const resume = parseResume(params);
      const claims = await deps.verifier.verify(params.get("token")).catch(
        refused,
      );
      // The token is checked before the upgrade header, so a browser client
      // can probe with a plain GET whether a failed socket was a 401.
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        throw new WsgwError(
          "upgrade_required",
          426,
          "this endpoint takes WebSocket connections only",
        );
      }
      const { socket, response } = Deno.upgradeWebSocket(request, {
        idleTimeout: IDLE_TIMEOUT,
      });
      const session = deps.node.attach(socket, claims, resume);
      socket.addEventListener(
        "message",
        (event) =>
          onFrame(session, event.data, deps.node.config.maxMessageBytes),
      );
      return response;
    } catch (error) {
      if (error instanceof WsgwError) {
        // Readable cross-origin: the body holds no secret, and the browser
        // client reads the status of a refused connection from it.
        return Response.json(
          { error: { code: error.code, message: error.message } },
          {
            status: error.status,
            headers: {
              "access-control-allow-origin": "*",
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

/** Handles one client frame: ping → pong; anything else is an error frame. */
function onFrame(
  session: ChannelSession,
  data: unknown,
  maxBytes: number,
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
