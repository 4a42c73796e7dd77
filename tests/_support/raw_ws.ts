/**
 * A bare WebSocket client over `Deno.connect`: handshake, then reading only
 * when asked. Lets a test play a client that stops reading (slow consumer)
 * and still parse what the server sent, close frame included.
 *
 * @module
 */

/** One server frame: text payload, or a close with its code. */
export type RawFrame =
  | { kind: "text"; text: string }
  | { kind: "close"; code: number; reason: string }
  | { kind: "other"; opcode: number };

/** A WebSocket connection that reads nothing until told to. */
export class RawWebSocket {
  readonly conn: Deno.TcpConn;
  #buffer = new Uint8Array(0);

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Connects and completes the handshake; throws unless the answer is 101. */
  static async connect(
    base: string,
    pathAndQuery: string,
  ): Promise<RawWebSocket> {
    const { hostname, port } = new URL(base);
    const conn = await Deno.connect({ hostname, port: Number(port) });
    const socket = new RawWebSocket(conn);
    await conn.write(new TextEncoder().encode(
      `GET ${pathAndQuery} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
        "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ));
    while (true) {
      const text = new TextDecoder().decode(socket.#buffer);
      const end = text.indexOf("\r\n\r\n");
      if (end !== -1) {
        if (!text.startsWith("HTTP/1.1 101")) {
          conn.close();
          throw new Error(`upgrade refused: ${text.slice(0, 40)}`);
        }
        socket.#buffer = socket.#buffer.slice(end + 4);
        return socket;
      }
      if (!(await socket.#fill())) {
        throw new Error("connection closed during handshake");
      }
    }
  }

  /** Reads frames until a close frame or end of stream; returns them all. */
  async readAll(): Promise<RawFrame[]> {
    const frames: RawFrame[] = [];
    while (true) {
      const frame = await this.readFrame();
      if (frame === null) return frames;
      frames.push(frame);
      if (frame.kind === "close") return frames;
    }
  }

  /** Reads the next frame; null at end of stream. */
  async readFrame(): Promise<RawFrame | null> {
    while (true) {
      const parsed = this.#parse();
      if (parsed) return parsed;
      if (!(await this.#fill())) return null;
    }
  }

  /** Sends one masked text frame, as a client must. */
  async sendText(text: string): Promise<void> {
    const payload = new TextEncoder().encode(text);
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const header = payload.length < 126
      ? [0x81, 0x80 | payload.length]
      : payload.length < 65536
      ? [0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]
      : [
        0x81,
        0x80 | 127,
        ...new Uint8Array(new BigUint64Array([BigInt(payload.length)]).buffer)
          .reverse(),
      ];
    const frame = new Uint8Array(header.length + 4 + payload.length);
    frame.set(header);
    frame.set(mask, header.length);
    for (let i = 0; i < payload.length; i++) {
      frame[header.length + 4 + i] = payload[i]! ^ mask[i % 4]!;
    }
    await this.conn.write(frame);
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed by the peer.
    }
  }

  #parse(): RawFrame | undefined {
    const b = this.#buffer;
    if (b.length < 2) return undefined;
    const opcode = b[0]! & 0x0f;
    let length = b[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = (b[2]! << 8) | b[3]!;
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      length = Number(
        new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0),
      );
      offset = 10;
    }
    if (b.length < offset + length) return undefined;
    const payload = b.slice(offset, offset + length);
    this.#buffer = b.slice(offset + length);
    if (opcode === 1) {
      return { kind: "text", text: new TextDecoder().decode(payload) };
    }
    if (opcode === 8) {
      const code = payload.length >= 2
        ? (payload[0]! << 8) | payload[1]!
        : 1005;
      return {
        kind: "close",
        code,
        reason: new TextDecoder().decode(payload.slice(2)),
      };
    }
    return { kind: "other", opcode };
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(65536);
    const n = await this.conn.read(chunk);
    if (n === null) return false;
    const next = new Uint8Array(this.#buffer.length + n);
    next.set(this.#buffer);
    next.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = next;
    return true;
  }
}
