/**
 * The client module in Chromium on real network trouble, from a page of
 * another origin than the gateway's: a frozen node, the browser going
 * offline and online, a token endpoint that hangs, rate limiting and a
 * 503 with Retry-After, a node that welcomes and closes at once, tokens
 * expiring on a live connection. Each waits on the client's own events.
 */
import assert from "node:assert/strict";
import { browserTest } from "../_support/browser.ts";
import { startTestGateway } from "../_support/embedded.ts";
import {
  eventsOf,
  GatewayProcess,
  PageOrigin,
  startClient,
  stateOf,
  tokenCallsOf,
  untilEvents,
} from "./_client_page.ts";

const count = (events: { type: string }[], type: string) =>
  events.filter((e) => e.type === type).length;

browserTest(
  "client networks - a SIGSTOPped node: the dead socket is noticed, dials do not hang, the token is never printed",
  async (browser) => {
    await using origin = new PageOrigin();
    await using gateway = await GatewayProcess.start();
    const page = await browser.newPage();
    const console: string[] = [];
    page.on("console", (m) => console.push(m.text()));
    await page.goto(origin.url);
    await startClient(page, "a", gateway.url, "frozen", {
      pingInterval: 1000,
      pongTimeout: 1000,
      handshakeTimeout: 1500,
      minDelay: 100,
      maxDelay: 400,
    });
    await untilEvents(
      page,
      "a",
      (e) => count(e, "connected") === 1,
      "connected",
    );
    gateway.pause();
    const stoppedAt = Date.now();
    let events = await untilEvents(
      page,
      "a",
      (e) => e.some((x) => x.type === "disconnected"),
      "the dead socket noticed",
      10_000,
    );
    const drop = events.find((e) => e.type === "disconnected")!;
    assert.deepEqual(drop.detail, {
      code: 3008,
      reason: "ping timeout",
      wasConnected: true,
    });
    assert.ok(
      // ping 1 s + pong 1 s; slack for a loaded machine (defc64c: 35 s).
      drop.at - stoppedAt <= 6000,
      `noticed after ${drop.at - stoppedAt} ms`,
    );
    events = await untilEvents(
      page,
      "a",
      (e) =>
        e.filter((x) =>
          x.type === "error" && x.detail.code === "handshake_timeout"
        )
          .length >= 2,
      "two dials given up on (handshake timeout), not one stuck socket",
    );
    assert.equal((await stateOf(page, "a")).state, "connecting");
    gateway.resume();
    await untilEvents(
      page,
      "a",
      (e) => count(e, "connected") === 2,
      "reconnected",
    );
    // Close while a dial is under way: Chromium then logs the socket's URL.
    gateway.pause();
    await untilEvents(
      page,
      "a",
      (e) => count(e, "disconnected") >= 4,
      "dropped",
    );
    await page.evaluate(() =>
      // deno-lint-ignore no-explicit-any
      (globalThis as any).clients.a.client.close()
    );
    gateway.resume();
    assert.ok(origin.issued.length >= 2);
    for (const line of console) {
      for (const token of origin.issued) {
        assert.ok(
          !line.includes(token),
          `a console line shows a token: ${line}`,
        );
      }
    }
  },
);

browserTest(
  "client networks - offline drops the socket at once; online reconnects at once despite a long backoff",
  async (browser) => {
    await using origin = new PageOrigin();
    await using gateway = await startTestGateway();
    const page = await browser.newPage();
    await page.goto(origin.url);
    await startClient(page, "a", gateway.url, "roamer", {
      minDelay: 20_000,
      maxDelay: 60_000,
    });
    await untilEvents(
      page,
      "a",
      (e) => count(e, "connected") === 1,
      "connected",
    );
    await browser.context.setOffline(true);
    const offlineAt = Date.now();
    const events = await untilEvents(
      page,
      "a",
      (e) => e.some((x) => x.type === "disconnected"),
      "dropped on offline",
      5000,
    );
    const drop = events.find((e) => e.type === "disconnected")!;
    assert.equal(drop.detail.reason, "offline");
    assert.ok(drop.at - offlineAt < 3000, `after ${drop.at - offlineAt} ms`);
    await browser.context.setOffline(false);
    const onlineAt = Date.now();
    const after = await untilEvents(
      page,
      "a",
      (e) => count(e, "connected") === 2,
      "reconnected after online",
      10_000,
    );
    const connecting = after.filter((e) => e.type === "connecting").at(-1)!;
    assert.equal(connecting.detail.cause, "online");
    assert.ok(connecting.detail.delay <= 1000);
    const back = after.filter((e) => e.type === "connected").at(-1)!;
    // The backoff alone would wait up to 20 s here.
    assert.ok(back.at - onlineAt < 8000, `back after ${back.at - onlineAt} ms`);
    await gateway.api("POST", "/v1/push", { users: ["roamer"], data: "hi" });
    await untilEvents(page, "a", (e) => count(e, "message") === 1, "a push");
  },
);

browserTest(
  "client networks - a token endpoint that hangs: each call times out and is retried, then the client connects",
  async (browser) => {
    await using origin = new PageOrigin();
    await using gateway = await startTestGateway();
    const page = await browser.newPage();
    await page.goto(origin.url);
    origin.hangTokens = true;
    await startClient(page, "a", gateway.url, "patient", {
      tokenTimeout: 800,
      minDelay: 100,
      maxDelay: 300,
    });
    await untilEvents(
      page,
      "a",
      (e) =>
        e.filter((x) => x.type === "error" && x.detail.code === "token_timeout")
          .length >= 2,
      "two token timeouts",
    );
    assert.ok(
      await tokenCallsOf(page, "a") >= 2,
      "the token function was called again",
    );
    origin.release();
    const events = await untilEvents(
      page,
      "a",
      (e) => count(e, "connected") === 1,
      "connected once tokens come",
    );
    assert.equal(count(events, "closed"), 0);
  },
);

browserTest(
  "client networks - rate limited from another origin (429 + Retry-After): all 10 clients connect, none gives up",
  async (browser) => {
    await using origin = new PageOrigin();
    await using gateway = await startTestGateway({ WSGW_CONNECT_RATE: "1" });
    const page = await browser.newPage();
    await page.goto(origin.url);
    const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
    for (const id of ids) {
      await startClient(page, id, gateway.url, `user-${id}`, {
        minDelay: 100,
        maxDelay: 1000,
      });
    }
    let waited = 0;
    for (const id of ids) {
      const events = await untilEvents(
        page,
        id,
        (e) => count(e, "connected") === 1 || count(e, "closed") > 0,
        "connected or closed",
        60_000,
      );
      assert.equal(count(events, "closed"), 0, `${id} gave up`);
      waited += events.filter((e) =>
        e.type === "connecting" && e.detail.cause === "retry-after"
      ).length;
    }
    assert.ok(waited > 0, "Retry-After was read cross-origin and honoured");
  },
);

browserTest(
  "client networks - a node that welcomes and closes with 4008 at once: the reconnects slow down",
  async (browser) => {
    await using origin = new PageOrigin();
    await using gateway = await startTestGateway();
    let dials = 0;
    await using loop = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => {
        if (request.headers.get("upgrade") !== "websocket") {
          return new Response(null, { status: 426 });
        }
        dials++;
        const { socket, response } = Deno.upgradeWebSocket(request, {
          protocol: "wsgw.v1",
        });
        socket.onopen = () => {
          socket.send(JSON.stringify({
            type: "welcome",
            connId: `c${dials}`,
            nodeId: "loop",
            userId: "u",
            seq: 0,
            epoch: "e",
            recovered: true,
          }));
          socket.close(4008, "slow consumer");
        };
        return response;
      },
    );
    const page = await browser.newPage();
    await page.goto(origin.url);
    await startClient(page, "a", gateway.url, "looped", {
      wsUrl: `ws://127.0.0.1:${loop.addr.port}/ws`,
      minDelay: 500,
      maxDelay: 30_000,
      random: 0.5,
    });
    const events = await untilEvents(
      page,
      "a",
      (e) => e.some((x) => x.type === "connecting" && x.detail.delay >= 2000),
      "a retry delay of 2 s",
    );
    const delays = events.filter((e) => e.type === "connecting").map((e) =>
      e.detail.delay
    );
    assert.deepEqual(delays, [0, 250, 500, 1000, 2000]);
    assert.equal(count(events, "connected"), 4);
    assert.deepEqual(
      events.filter((e) => e.type === "disconnected").map((e) => e.detail.code),
      [4008, 4008, 4008, 4008],
    );
    await page.evaluate(() =>
      // deno-lint-ignore no-explicit-any
      (globalThis as any).clients.a.client.close()
    );
    assert.equal(dials, 4);
  },
);

browserTest(
  "client networks - tokens expiring on a live connection are refreshed on it: no reconnect, pushes still arrive",
  async (browser) => {
    await using origin = new PageOrigin();
    origin.tokenSeconds = 3;
    await using gateway = await startTestGateway({ WSGW_JWT_CLOCK_SKEW: "0" });
    const page = await browser.newPage();
    await page.goto(origin.url);
    await startClient(page, "a", gateway.url, "renewer", {
      refreshBefore: 1500,
    });
    await untilEvents(
      page,
      "a",
      (e) => count(e, "connected") === 1,
      "connected",
    );
    const { connId } = await stateOf(page, "a");
    // Three refreshes: the first token is long expired by then.
    await waitForCalls(page, 4);
    await gateway.api("POST", "/v1/push", { users: ["renewer"], data: "late" });
    const events = await untilEvents(
      page,
      "a",
      (e) => count(e, "message") === 1,
      "a push after the first token expired",
    );
    assert.equal(count(events, "disconnected"), 0);
    assert.equal(count(events, "connected"), 1);
    assert.equal((await stateOf(page, "a")).connId, connId);
    assert.deepEqual(
      events.filter((e) => e.type === "error").map((e) => e.detail.code),
      [],
    );
  },
);

async function waitForCalls(
  page: Parameters<typeof tokenCallsOf>[0],
  calls: number,
): Promise<void> {
  const { waitFor } = await import("../_support/until.ts");
  await waitFor(async () => await tokenCallsOf(page, "a") >= calls, {
    what: `${calls} token calls`,
    timeout: 15_000,
    interval: 50,
  });
}

export { eventsOf };

/**
 * A front (a load balancer in maintenance, on its own origin) answering
 * `/ws` with 503 + Retry-After while `refusing`, then passing sockets
 * through to `gateway`.
 */
function maintenanceFront(gateway: string) {
  const state = { refusing: true, refusals: 0 };
  const cors = {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "retry-after",
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      if (request.method === "OPTIONS") {
        return new Response(null, {
          status: 204,
          headers: { ...cors, "access-control-allow-headers": "authorization" },
        });
      }
      if (state.refusing) {
        state.refusals++;
        return new Response("maintenance", {
          status: 503,
          headers: { ...cors, "retry-after": "2" },
        });
      }
      if (request.headers.get("upgrade") !== "websocket") {
        return new Response(null, { status: 426, headers: cors });
      }
      const offered = (request.headers.get("sec-websocket-protocol") ?? "")
        .split(",").map((p) => p.trim()).filter(Boolean);
      const upstream = new WebSocket(
        `${gateway.replace("http", "ws")}/ws${url.search}`,
        offered,
      );
      await new Promise((resolve, reject) => {
        upstream.onopen = resolve;
        upstream.onerror = reject;
      });
      const { socket, response } = Deno.upgradeWebSocket(request, {
        protocol: upstream.protocol,
      });
      // The welcome may come before this side is open: hold it till then.
      const held: string[] = [];
      upstream.onmessage = (e) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(e.data);
        else held.push(e.data);
      };
      socket.onopen = () => {
        for (const data of held.splice(0)) socket.send(data);
      };
      socket.onmessage = (e) => {
        if (upstream.readyState === WebSocket.OPEN) upstream.send(e.data);
      };
      socket.onclose = () => upstream.close();
      upstream.onclose = () => {
        if (socket.readyState < WebSocket.CLOSING) socket.close();
      };
      return response;
    },
  );
  return { server, state, url: `http://127.0.0.1:${server.addr.port}` };
}

browserTest(
  "client networks - 503 with Retry-After from another origin: the client waits as told and connects, never gives up",
  async (browser) => {
    await using origin = new PageOrigin();
    await using gateway = await startTestGateway();
    const front = maintenanceFront(gateway.url);
    await using _server = front.server;
    const page = await browser.newPage();
    await page.goto(origin.url);
    await startClient(page, "a", gateway.url, "waiter", {
      wsUrl: front.url.replace("http", "ws") + "/ws",
      minDelay: 100,
      maxDelay: 400,
      maxAuthFailures: 1,
    });
    const events = await untilEvents(
      page,
      "a",
      (e) =>
        e.filter((x) =>
          x.type === "connecting" && x.detail.cause === "retry-after"
        )
          .length >= 2,
      "two waits as long as Retry-After says",
    );
    const waits = events.filter((e) =>
      e.type === "connecting" && e.detail.cause === "retry-after"
    );
    for (const wait of waits) assert.ok(wait.detail.delay >= 2000);
    assert.equal(count(events, "closed"), 0);
    assert.deepEqual(events.filter((e) => e.type === "error"), []);
    front.state.refusing = false;
    await untilEvents(
      page,
      "a",
      (e) => count(e, "connected") === 1,
      "connected",
    );
    await gateway.api("POST", "/v1/push", { users: ["waiter"], data: "hi" });
    await untilEvents(page, "a", (e) => count(e, "message") === 1, "a push");
  },
);
