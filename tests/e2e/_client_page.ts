/**
 * Real-browser tests of the client module: a page served from its own
 * origin (a port of its own) imports `/client.js` from a gateway of another
 * origin, gets tokens from its own backend, and records every event the
 * client dispatches. Plus a gateway in a child process, which a test can
 * freeze with SIGSTOP like a hung host.
 *
 * @module
 */
import type { Page } from "playwright-core";
import { signToken } from "../../shared/token.ts";
import { API_KEY, JWT_SECRET } from "../_support/embedded.ts";
import { freePort, waitFor } from "../_support/until.ts";

/** One client event as the page recorded it. */
export type PageEvent = {
  type: string;
  // deno-lint-ignore no-explicit-any
  detail: any;
  at: number;
};

/** Client events to record: all of them. */
const EVENTS = [
  "state",
  "connecting",
  "connected",
  "disconnected",
  "message",
  "reset",
  "gap",
  "error",
  "closed",
];

const PAGE =
  `<!doctype html><meta charset="utf-8"><title>wsgw client test</title>
<script>
  // start(id, gatewayBase, options, tokenPath): a client recording its events.
  globalThis.clients = {};
  globalThis.start = async (id, gatewayBase, options, tokenPath) => {
    const { WsgwClient } = await import(gatewayBase + "/client.js");
    const events = [];
    let tokenCalls = 0;
    const client = new WsgwClient({
      url: (options.wsUrl ?? gatewayBase.replace(/^http/, "ws") + "/ws"),
      ...options,
      // JSON cannot carry a function: a number stands for a fixed random.
      ...(typeof options.random === "number"
        ? { random: ((r) => () => r)(options.random) }
        : {}),
      token: async ({ signal, reason }) => {
        tokenCalls++;
        const response = await fetch(tokenPath + "&reason=" + reason, { signal });
        if (!response.ok) throw new Error("token endpoint: " + response.status);
        return await response.text();
      },
    });
    for (const type of ${JSON.stringify(EVENTS)}) {
      client.addEventListener(type, (e) => {
        // An error's cause may be an Error: not serializable to the test.
        const detail = type === "error"
          ? Object.fromEntries(Object.entries(e.detail).filter(([k]) => k !== "cause"))
          : e.detail;
        events.push({ type, detail, at: Date.now() });
      });
    }
    globalThis.clients[id] = { client, events, tokenCalls: () => tokenCalls };
    client.connect();
  };
</script>`;

/** The page's origin: the page, and a token backend the test controls. */
export class PageOrigin implements AsyncDisposable {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  /** While true, /token requests hang until it turns false. */
  hangTokens = false;
  /** Seconds a token is valid. */
  tokenSeconds = 3600;
  /** Every token issued, so a test can look for it in console output. */
  readonly issued: string[] = [];
  #hanging: (() => void)[] = [];

  constructor() {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (request) => {
        const url = new URL(request.url);
        if (url.pathname === "/") {
          return new Response(PAGE, {
            headers: { "content-type": "text/html; charset=utf-8" },
          });
        }
        if (url.pathname === "/token") {
          while (this.hangTokens) {
            await new Promise<void>((resolve) => this.#hanging.push(resolve));
          }
          const user = url.searchParams.get("user") ?? "anon";
          const token = await signToken(
            JWT_SECRET,
            { sub: user },
            Math.floor(Date.now() / 1000) + this.tokenSeconds,
          );
          this.issued.push(token);
          return new Response(token);
        }
        return new Response("not found", { status: 404 });
      },
    );
  }

  /** `http://127.0.0.1:<port>`: another origin than any gateway's. */
  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  /** Lets hanging token requests answer. */
  release(): void {
    this.hangTokens = false;
    for (const resolve of this.#hanging.splice(0)) resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
    await this.#server.shutdown();
  }
}

/** Starts client `id` in `page` against `gateway` with `options`. */
export async function startClient(
  page: Page,
  id: string,
  gateway: string,
  user: string,
  options: Record<string, unknown> = {},
): Promise<void> {
  await page.evaluate(
    ([id, gateway, options, path]) =>
      // deno-lint-ignore no-explicit-any
      (globalThis as any).start(id, gateway, options, path),
    [id, gateway, options, `/token?user=${encodeURIComponent(user)}`] as const,
  );
}

/** The events client `id` dispatched so far. */
export function eventsOf(page: Page, id: string): Promise<PageEvent[]> {
  return page.evaluate(
    // deno-lint-ignore no-explicit-any
    (id) => (globalThis as any).clients[id].events,
    id,
  );
}

/** Calls of client `id`'s token function so far. */
export function tokenCallsOf(page: Page, id: string): Promise<number> {
  return page.evaluate(
    // deno-lint-ignore no-explicit-any
    (id) => (globalThis as any).clients[id].tokenCalls(),
    id,
  );
}

/** The client's state and connId. */
export function stateOf(
  page: Page,
  id: string,
): Promise<{ state: string; connId: string | undefined }> {
  return page.evaluate((id) => {
    // deno-lint-ignore no-explicit-any
    const { client } = (globalThis as any).clients[id];
    return { state: client.state, connId: client.connId };
  }, id);
}

/** Waits until client `id`'s events satisfy `predicate`; returns them. */
export function untilEvents(
  page: Page,
  id: string,
  predicate: (events: PageEvent[]) => boolean,
  what: string,
  timeout = 15_000,
): Promise<PageEvent[]> {
  return waitFor(async () => {
    const events = await eventsOf(page, id);
    return predicate(events) ? events : undefined;
  }, { what: `${id}: ${what}`, timeout, interval: 50 });
}

/** An embedded gateway in its own process, so it can be frozen. */
export class GatewayProcess implements AsyncDisposable {
  readonly url: string;
  readonly #child: Deno.ChildProcess;

  private constructor(url: string, child: Deno.ChildProcess) {
    this.url = url;
    this.#child = child;
  }

  /** Spawns `deno run gateway/embedded.ts` and waits for `/healthz`. */
  static async start(
    env: Record<string, string> = {},
  ): Promise<GatewayProcess> {
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "gateway/embedded.ts"],
      cwd: new URL("../../", import.meta.url),
      env: {
        PORT: String(port),
        WSGW_API_KEYS: API_KEY,
        WSGW_JWT_SECRET: JWT_SECRET,
        ...env,
      },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const gateway = new GatewayProcess(`http://127.0.0.1:${port}`, child);
    try {
      await waitFor(async () => {
        const response = await fetch(`${gateway.url}/healthz`);
        await response.body?.cancel();
        return response.ok;
      }, { timeout: 20_000, interval: 100, what: "the gateway process" });
    } catch (error) {
      await gateway[Symbol.asyncDispose]();
      throw error;
    }
    return gateway;
  }

  /** Freezes the process: sockets stay open and nothing answers. */
  pause(): void {
    this.#child.kill("SIGSTOP");
  }

  resume(): void {
    this.#child.kill("SIGCONT");
  }

  /** Pushes `data` to `user` through the gateway's push API. */
  async push(user: string, data: unknown): Promise<void> {
    const response = await fetch(`${this.url}/v1/push`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${API_KEY}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ users: [user], data }),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`push answered ${response.status}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGCONT");
      this.#child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.#child.status;
  }
}
