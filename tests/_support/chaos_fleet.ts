/**
 * A fleet of reconnecting clients for the chaos tests: one `WsgwClient` per
 * device (client/ under Deno: backoff, resume with since/epoch, dedupe), each
 * behind a recording WebSocket that sees every frame of every connection
 * before the client's own dedupe, and a test balancer that sends each dial to
 * the device's home node while it is up, to another node otherwise.
 *
 * @module
 */
import {
  WsgwClient,
  type WsgwWebSocketClass,
} from "../../client/wsgw_client.ts";
import type { ServerFrame, WelcomeFrame } from "../../shared/protocol.ts";

/** One WebSocket connection of a device, as the server spoke on it. */
export type ConnectionRecord = {
  /** Index of the node it was dialled to. */
  node: number;
  /** The `since` the client resumed with; undefined on a first connection. */
  since?: number;
  dialledAt: number;
  openedAt?: number;
  closedAt?: number;
  closeCode?: number;
  welcome?: WelcomeFrame;
  /** Every message frame in arrival order (before client-side dedupe). */
  messages: { seq: number | undefined; id: string; at: number }[];
  /** The socket, so a test can cut it. */
  socket: WebSocket;
};

/** One device: its client and everything its connections received. */
export type Device = {
  user: string;
  /** Index of the node it connects to while that node is up. */
  home: number;
  client: WsgwClient;
  connections: ConnectionRecord[];
  /** Messages the client passed on to the application (after dedupe). */
  delivered: number;
  /** Welcomes with `recovered: false` after the first connection. */
  resets: number;
  /** Dials in a row that closed before opening (moves the next dial on). */
  failures: number;
};

/** Options of {@link ChaosFleet}. */
export type ChaosFleetOptions = {
  /** `ws://…/ws` of each node, by index. */
  nodes: string[];
  /** Signs a token for a user. */
  token: (user: string) => Promise<string>;
  /** Users, one device each; device `i` calls node `i % nodes` home. */
  users: string[];
};

/**
 * The clients of a chaos test. `markDown(i)` is what a balancer's health
 * check would conclude (node killed or draining): dials avoid that node.
 */
export class ChaosFleet implements AsyncDisposable {
  readonly devices: Device[] = [];
  readonly #nodes: string[];
  readonly #up: boolean[];

  constructor(options: ChaosFleetOptions) {
    this.#nodes = options.nodes;
    this.#up = options.nodes.map(() => true);
    options.users.forEach((user, i) => {
      const device: Device = {
        user,
        home: i % options.nodes.length,
        connections: [],
        delivered: 0,
        resets: 0,
        failures: 0,
        client: undefined as unknown as WsgwClient,
      };
      device.client = new WsgwClient({
        url: options.nodes[device.home]!,
        token: () => options.token(user),
        WebSocket: this.#socketClass(device),
        minDelay: 200,
        maxDelay: 2000,
        // Dials that fail against a dead node must never stop the client.
        maxAuthFailures: 1_000_000,
        probe: false,
      });
      device.client.addEventListener("message", () => device.delivered++);
      this.devices.push(device);
    });
  }

  /** Connects the clients and waits until all are open and welcomed. */
  async connect(
    devices: readonly Device[] = this.devices,
    timeoutMs = 30_000,
  ): Promise<void> {
    for (const device of devices) device.client.connect();
    await this.waitAllOpen(timeoutMs, devices);
  }

  /** Resolves once every client (of `devices`) has a welcomed, open connection. */
  async waitAllOpen(
    timeoutMs: number,
    devices: readonly Device[] = this.devices,
  ): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const waiting = devices.filter((d) => !isLive(d)).length;
      if (waiting === 0) return Date.now();
      if (Date.now() > deadline) {
        throw new Error(`${waiting} clients still not connected`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Dials stop going to node `i` (killed, draining). */
  markDown(i: number): void {
    this.#up[i] = false;
  }

  markUp(i: number): void {
    this.#up[i] = true;
  }

  /**
   * Sends each device to another home node and cuts its socket, as a
   * network blip would: it reconnects there, resuming with since/epoch.
   */
  move(devices: readonly Device[], to: (device: Device) => number): void {
    for (const device of devices) {
      device.home = to(device);
      const socket = device.connections.at(-1)?.socket;
      if (socket && socket.readyState < 2) socket.close(4000, "test: moved");
    }
  }

  /** Devices whose current connection is on node `i`. */
  onNode(i: number): Device[] {
    return this.devices.filter((d) =>
      isLive(d) && d.connections.at(-1)!.node === i
    );
  }

  /** Closes every client and waits for their sockets. */
  async close(): Promise<void> {
    await Promise.all(this.devices.map((d) => d.client.close()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The node a dial of `device` goes to: home while up, else the next up one. */
  #pick(device: Device): number {
    const count = this.#nodes.length;
    // A dial that failed moves on: a balancer retries elsewhere too.
    for (let step = 0; step < count; step++) {
      const i = (device.home + device.failures + step) % count;
      if (this.#up[i]) return i;
    }
    return device.home;
  }

  /** A WebSocket class that dials where the balancer says and records frames. */
  #socketClass(device: Device): WsgwWebSocketClass {
    const pick = (d: Device) => this.#pick(d);
    const nodes = this.#nodes;
    return class RecordingSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        const node = pick(device);
        const target = new URL(url);
        const base = new URL(nodes[node]!);
        target.host = base.host;
        super(target.href, protocols);
        const since = target.searchParams.get("since");
        const record: ConnectionRecord = {
          node,
          dialledAt: Date.now(),
          messages: [],
          socket: this,
          ...(since === null ? {} : { since: Number(since) }),
        };
        device.connections.push(record);
        // Listeners added here run before the client's own handlers.
        this.addEventListener("open", () => {
          record.openedAt = Date.now();
          device.failures = 0;
        });
        this.addEventListener("message", (event) => {
          const frame = JSON.parse(event.data as string) as ServerFrame;
          if (frame.type === "welcome") {
            if (!frame.recovered && device.connections.length > 1) {
              device.resets++;
            }
            record.welcome = frame;
          } else if (frame.type === "message") {
            record.messages.push({
              seq: frame.seq,
              id: frame.id,
              at: Date.now(),
            });
          }
        });
        this.addEventListener("close", (event) => {
          record.closedAt = Date.now();
          record.closeCode = event.code;
          if (record.openedAt === undefined) device.failures++;
        });
      }
    };
  }
}

/** True while the device's last connection is welcomed and open. */
export function isLive(device: Device): boolean {
  const last = device.connections.at(-1);
  return last !== undefined && last.welcome !== undefined &&
    last.closedAt === undefined && device.client.state === "connected";
}
