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

/**
 * Sends an HTTP/1.1 upgrade request by hand and returns the status and body,
 * closing the connection; for checking that a bad token gets 401 and no socket.
 */
export async function rawUpgrade(
  base: string,
  pathAndQuery: string,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const request = [
      `GET ${pathAndQuery} HTTP/1.1`,
      `Host: ${hostname}:${port}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version: 13",
      "",
      "",
    ].join("\r\n");
    await conn.write(new TextEncoder().encode(request));
    let text = "";
    const buffer = new Uint8Array(16384);
    const decoder = new TextDecoder();
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
      const headerEnd = text.indexOf("\r\n\r\n");
      if (headerEnd === -1) continue;
      const length = /content-length: *(\d+)/i.exec(text.slice(0, headerEnd));
      const status = Number(text.slice(9, 12));
      if (status === 101) return { status, body: "" };
      if (length && text.length >= headerEnd + 4 + Number(length[1])) break;
    }
    const headerEnd = text.indexOf("\r\n\r\n");
    return {
      status: Number(text.slice(9, 12)),
      body: text.slice(headerEnd + 4),
    };
  } finally {
    conn.close();
  }
}
