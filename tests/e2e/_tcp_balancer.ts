/**
 * A tiny L4 balancer for the browser tests: what haproxy is in production
 * (DESIGN.md: browser ◄─ L4 balancer ─► gateway node). Each new TCP
 * connection goes to the next backend, round robin, whose `/readyz` answers
 * 200, so a draining node gets no new clients; bytes are piped untouched.
 * `hold()` closes new connections at once (no backend up), so a test can
 * push while clients are provably away and then let them back.
 *
 * @module
 */

/** A running balancer; dispose closes it and every piped connection. */
export class TcpBalancer implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  readonly #backends: () => readonly string[];
  readonly #open = new Set<Deno.Conn>();
  readonly #piping = new Set<Promise<void>>();
  #next = 0;
  #held = false;
  #accepting: Promise<void>;

  private constructor(
    listener: Deno.TcpListener,
    backends: () => readonly string[],
  ) {
    this.#listener = listener;
    this.#backends = backends;
    this.#accepting = this.#accept();
  }

  /** Listens on a free port of 127.0.0.1 in front of `backends` (base URLs). */
  static start(backends: () => readonly string[]): TcpBalancer {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    return new TcpBalancer(listener, backends);
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return `http://127.0.0.1:${this.#listener.addr.port}`;
  }

  /** New connections are closed at once until {@link release}; open ones stay. */
  hold(): void {
    this.#held = true;
  }

  release(): void {
    this.#held = false;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const conn of this.#open) closeQuietly(conn);
    await Promise.all(this.#piping);
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const piping = this.#serve(conn).finally(() =>
          this.#piping.delete(piping)
        );
        this.#piping.add(piping);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }

  async #serve(client: Deno.Conn): Promise<void> {
    this.#open.add(client);
    let upstream: Deno.Conn | undefined;
    try {
      upstream = this.#held ? undefined : await this.#connect();
      if (!upstream) return;
      this.#open.add(upstream);
      await Promise.all([
        client.readable.pipeTo(upstream.writable),
        upstream.readable.pipeTo(client.writable),
      ]).catch(() => {}); // a reset on either side ends both: closed below
    } finally {
      for (const conn of [client, upstream]) {
        if (!conn) continue;
        this.#open.delete(conn);
        closeQuietly(conn);
      }
    }
  }

  /** The next ready backend, connected; undefined when none is ready. */
  async #connect(): Promise<Deno.Conn | undefined> {
    const backends = this.#backends();
    for (let i = 0; i < backends.length; i++) {
      const base = backends[(this.#next + i) % backends.length]!;
      if (!await ready(base)) continue;
      this.#next = (this.#next + i + 1) % backends.length;
      const { hostname, port } = new URL(base);
      try {
        return await Deno.connect({ hostname, port: Number(port) });
      } catch {
        // It went away between the check and the connect: try the next one.
      }
    }
    return undefined;
  }
}

async function ready(base: string): Promise<boolean> {
  try {
    const response = await fetch(`${base}/readyz`, {
      signal: AbortSignal.timeout(1000),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed by a finished pipe
  }
}
