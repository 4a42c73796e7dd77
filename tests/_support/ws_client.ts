/**
 * A WebSocket test client that records every frame, waits on frames by
 * predicate, and exposes the close code; plus a raw upgrade request to see
 * the HTTP status of a refused upgrade (a browser WebSocket cannot).
 *
 * @module
 */
import type {
  MessageFrame,
  ServerFrame,
  WelcomeFrame,
} from "../../shared/protocol.ts";
import net from "node:net";
import { waitFor } from "./until.ts";

/** How a connection ended. */
export type Closed = { code: number; reason: string };

/** A recording WebSocket client. */
export class TestClient implements AsyncDisposable {
  readonly socket: WebSocket;
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<Closed>;
  #closedValue: Closed | undefined;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.addEventListener("message", (event) => {
      this.frames.push(JSON.parse(event.data as string));
    });
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", (event) => {
        this.#closedValue = { code: event.code, reason: event.reason };
        resolve(this.#closedValue);
      });
    });
  }

  /** Opens a connection; rejects when it closes before opening. */
  static open(url: string): Promise<TestClient> {
    const client = new TestClient(new WebSocket(url));
    return new Promise((resolve, reject) => {
      client.socket.addEventListener("open", () => resolve(client));
      client.socket.addEventListener("error", () => {
        reject(
          new Error(
            `WebSocket to ${url.replace(/token=[^&]*/, "token=…")} failed`,
          ),
        );
      });
    });
  }

  /** Opens a connection and waits for its welcome. */
  static async welcomed(
    url: string,
  ): Promise<{ client: TestClient; welcome: WelcomeFrame }> {
    const client = await TestClient.open(url);
    const welcome = await client.next((f): f is WelcomeFrame =>
      f.type === "welcome"
    );
    return { client, welcome };
  }

  get isClosed(): Closed | undefined {
    return this.#closedValue;
  }

  /** The message frames received so far, in order. */
  messages(): MessageFrame[] {
    return this.frames.filter((f): f is MessageFrame => f.type === "message");
  }

  /** Waits for the first frame (from the start) matching `predicate`. */
  next<T extends ServerFrame>(
    predicate: (frame: ServerFrame) => frame is T,
    timeout?: number,
  ): Promise<T>;
  next(
    predicate: (frame: ServerFrame) => boolean,
    timeout?: number,
  ): Promise<ServerFrame>;
  next(
    predicate: (frame: ServerFrame) => boolean,
    timeout = 5000,
  ): Promise<ServerFrame> {
    return waitFor(() => this.frames.find(predicate), {
      timeout,
      what: "a matching frame",
    });
  }

  /** Waits until `count` message frames have arrived; returns them. */
  async waitMessages(count: number, timeout = 5000): Promise<MessageFrame[]> {
    await waitFor(() => this.messages().length >= count, {
      timeout,
      what: `${count} messages (have ${this.messages().length})`,
    });
    return this.messages();
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Closes (if still open) and waits for the close to finish. */
  async close(): Promise<Closed> {
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close(1000);
    return await this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Options of {@link rawUpgrade}. */
export type RawUpgradeOptions = {
  /** Extra request headers, e.g. `Origin`. */
  headers?: Record<string, string>;
  /** Source address to connect from, e.g. `127.0.0.3` (any 127/8 works on Linux). */
  from?: string;
};

/** The answer to a hand-made upgrade request. */
export type RawUpgradeAnswer = {
  status: number;
  headers: Headers;
  body: string;
};

/**
 * Sends an HTTP/1.1 upgrade request by hand and returns the status, headers
 * and body, closing the connection; for checking that a refused upgrade gets
 * its status and no socket. Over node:net, which can pick the source address
 * (Deno.connect cannot), so a test can play clients from several addresses.
 */
export function rawUpgrade(
  base: string,
  pathAndQuery: string,
  options: RawUpgradeOptions = {},
): Promise<RawUpgradeAnswer> {
  const { hostname, port } = new URL(base);
  const request = [
    `GET ${pathAndQuery} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    ...Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    "",
    "",
  ].join("\r\n");
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: hostname,
      port: Number(port),
      ...(options.from ? { localAddress: options.from } : {}),
    });
    let text = "";
    const finish = () => {
      socket.destroy();
      resolve(parseAnswer(text));
    };
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(request));
    socket.on("error", reject);
    socket.on("end", finish);
    socket.on("data", (chunk: string) => {
      text += chunk;
      const headerEnd = text.indexOf("\r\n\r\n");
      if (headerEnd === -1) return;
      if (text.startsWith("HTTP/1.1 101")) return finish();
      const length = /content-length: *(\d+)/i.exec(text.slice(0, headerEnd));
      if (length && text.length >= headerEnd + 4 + Number(length[1])) finish();
    });
  });
}

function parseAnswer(text: string): RawUpgradeAnswer {
  const headerEnd = text.indexOf("\r\n\r\n");
  const [statusLine = "", ...lines] = text.slice(0, headerEnd).split("\r\n");
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) {
      headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
    }
  }
  return {
    status: Number(statusLine.slice(9, 12)),
    headers,
    body: statusLine.startsWith("HTTP/1.1 101")
      ? ""
      : text.slice(headerEnd + 4),
  };
}
