/**
 * A scripted stand-in for a gateway's `/ws`, for tests of the browser
 * client: a real `Deno.serve` on a free port whose sockets the test drives
 * frame by frame. Like the real gateway, a request without an upgrade gets
 * 426 (this is what the client's probe sees).
 *
 * @module
 */
import type { MessageFrame, WelcomeFrame } from "../../shared/protocol.ts";
import { waitFor } from "./until.ts";

/** One accepted WebSocket, seen from the server. */
export class FakeConnection {
  readonly socket: WebSocket;
  /** The upgrade request's URL (since, epoch; token with the query transport). */
  readonly url: URL;
  /** The token the client sent (subprotocol, or `?token=`). */
  readonly token: string | null;
  /** Text frames the client sent, parsed. */
  readonly received: unknown[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  #closed = false;

  constructor(
    socket: WebSocket,
    url: URL,
    token: string | null,
    answerPings: boolean,
  ) {
    this.socket = socket;
    this.url = url;
    this.token = token;
    this.opened = new Promise((resolve) => socket.onopen = () => resolve());
    this.closed = new Promise((resolve) => {
      socket.onclose = (event) => {
        this.#closed = true;
        resolve({ code: event.code, reason: event.reason });
      };
    });
    socket.onmessage = (event) => {
      const frame = JSON.parse(String(event.data));
      this.received.push(frame);
      if (answerPings && frame?.type === "ping") this.send({ type: "pong" });
    };
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** The `ping` frames received so far. */
  pings(): number {
    return this.received.filter((f) => (f as { type?: string }).type === "ping")
      .length;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Sends a welcome; unset fields get test values. */
  welcome(fields: Partial<WelcomeFrame> = {}): void {
    this.send(
      {
        type: "welcome",
        connId: "c1",
        nodeId: "n1",
        userId: "u1",
        seq: 0,
        epoch: "e1",
        recovered: true,
        ...fields,
      } satisfies WelcomeFrame,
    );
  }

  /** Sends a message frame with `seq` (or a broadcast when `seq` is undefined). */
  message(seq: number | undefined, data: unknown = { n: seq }): void {
    const frame: MessageFrame = seq === undefined
      ? { type: "message", id: "b", data, ts: 1, broadcast: true }
      : { type: "message", seq, id: `m${seq}`, data, ts: 1 };
    this.send(frame);
  }

  /** Closes from the server side and waits until the close completes. */
  async close(code?: number, reason?: string): Promise<void> {
    if (this.socket.readyState < WebSocket.CLOSING) {
      this.socket.close(code, reason);
    }
    await this.closed;
  }
}

/** The token of a request: subprotocol, `Authorization` (probes), or query. */
function tokenOf(request: Request, url: URL): string | null {
  const offered = request.headers.get("sec-websocket-protocol") ?? "";
  for (const protocol of offered.split(",")) {
    const trimmed = protocol.trim();
    if (trimmed.startsWith("wsgw.token.")) return trimmed.slice(11);
  }
  const bearer = /^Bearer (.+)$/.exec(
    request.headers.get("authorization") ?? "",
  );
  return bearer?.[1] ?? url.searchParams.get("token");
}

/** Options of {@link FakeGateway}. */
export type FakeGatewayOptions = {
  /**
   * Answers a request itself (e.g. a 401) instead of accepting it; called
   * for upgrades and for the client's probes alike, with the token found.
   */
  refuse?: (url: URL, token: string | null) => Response | undefined;
  /** Whether accepted sockets answer `ping` with `pong`. @default true */
  answerPings?: boolean;
};

/** A scripted `/ws` server; `await using` shuts it down. */
export class FakeGateway implements AsyncDisposable {
  readonly connections: FakeConnection[] = [];
  /** Every request's URL, upgrades and probes alike. */
  readonly requests: URL[] = [];
  /** The token of every request, in the order of {@link requests}. */
  readonly tokens: (string | null)[] = [];
  /** Requests answered by `refuse`. */
  refused = 0;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  constructor(options: FakeGatewayOptions = {}) {
    const { refuse, answerPings = true } = options;
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => {
        const url = new URL(request.url);
        const token = tokenOf(request, url);
        this.requests.push(url);
        this.tokens.push(token);
        const refusal = refuse?.(url, token);
        if (refusal) {
          this.refused++;
          return refusal;
        }
        if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
          return Response.json({ error: { code: "upgrade_required" } }, {
            status: 426,
          });
        }
        const offered = request.headers.get("sec-websocket-protocol");
        const { socket, response } = Deno.upgradeWebSocket(
          request,
          offered?.includes("wsgw.v1") ? { protocol: "wsgw.v1" } : {},
        );
        this.connections.push(
          new FakeConnection(socket, url, token, answerPings),
        );
        return response;
      },
    );
  }

  /** `ws://127.0.0.1:<port>/ws`. */
  get url(): string {
    return `ws://127.0.0.1:${this.#server.addr.port}/ws`;
  }

  /** Waits for connection number `index` (0-based) and for it to open. */
  async connection(index: number, timeout = 5000): Promise<FakeConnection> {
    const connection = await waitFor(() => this.connections[index], {
      timeout,
      what: `connection #${index} (have ${this.connections.length})`,
    });
    await connection.opened;
    return connection;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.connections.map((c) => c.close()));
    await this.#server.shutdown();
  }
}
