/**
 * The demo in Chromium against a real cluster (`startCluster`: etcd,
 * redis-server, three gateway processes, a router), the demo service in
 * front of it, and an L4 balancer in front of the gateways: a drained node
 * (1012) sends its clients to another node, which resumes them from Redis
 * history; a disconnect through the API (4003) is final.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../shared/log.ts";
import { startDemo } from "../../demo/main.ts";
import { browserTest } from "../_support/browser.ts";
import { api, startTestCluster } from "../_support/cluster.ts";
import { waitFor } from "../_support/until.ts";
import { demoClient, DemoPage, testCover } from "./_demo_page.ts";
import { TcpBalancer } from "./_tcp_balancer.ts";

browserTest(
  "demo cluster - a drained node: the client reconnects to another node, resumes with since and epoch, shows what was pushed meanwhile once; after 4003 it stays closed",
  async (browser) => {
    await using cluster = await startTestCluster({ nodes: 3 });
    await using balancer = TcpBalancer.start(() =>
      cluster.gateways.map((g) => g.url)
    );
    await using demo = await startDemo({
      routerUrl: cluster.router,
      wsUrl: `${balancer.url.replace("http", "ws")}/ws`,
      apiKey: cluster.apiKey,
      jwtSecret: cluster.jwtSecret,
      host: "127.0.0.1",
      port: 0,
      jobMs: 800,
    }, silentLogger);

    const tabs = [
      await DemoPage.open(browser, demo.url, "carol", "laptop"),
      await DemoPage.open(browser, demo.url, "carol", "phone"),
    ];
    const job = await tabs[0]!.upload(
      { name: "first.png", mimeType: "image/png", buffer: testCover() },
      "grayscale",
    );
    for (const tab of tabs) {
      await tab.until(
        async () => (await tab.covers())[0]?.devices === 2,
        "seq 1 pushed to 2 devices",
      );
    }
    const [laptop, phone] = tabs as [DemoPage, DemoPage];
    const welcome = (await laptop.sockets())[0]!.welcome!;
    const epoch = welcome.epoch;
    const drained = cluster.gateways.find((g) => g.nodeId === welcome.nodeId)!;
    const phoneNode = (await phone.sockets())[0]!.welcome!.nodeId;

    // Drain the laptop's node (SIGTERM: 1012 to its clients, then it exits)
    // while the balancer lets nobody in; push meanwhile.
    balancer.hold();
    await drained.stop();
    await laptop.until(
      async () => await laptop.state() === "connecting",
      "reconnecting",
    );
    const script = await demoClient(demo.url, "carol", "script");
    const during = await script.upload(
      testCover(),
      "meanwhile.png",
      "invert",
    );
    await waitFor(async () => (await script.job(during)).push, {
      what: "the push of the job",
      timeout: 10_000,
    });
    const text = await api(cluster, "POST", "/v1/push", {
      users: ["carol"],
      data: { text: "while away" },
    });
    assert.equal(text.body.results[0].seq, 3);
    balancer.release();

    await laptop.until(
      async () => (await laptop.messages()).length === 3,
      "seqs 2 and 3 replayed",
      20_000,
    );
    await laptop.until(
      async () => await laptop.resultLoaded(during),
      "the new result image",
    );
    const sockets = await laptop.sockets();
    assert.equal(sockets[0]!.closeCode, 1012);
    for (const socket of sockets.slice(1)) {
      const params = new URL(socket.url).searchParams;
      assert.equal(params.get("since"), "1");
      assert.equal(params.get("epoch"), epoch);
    }
    const resumed = sockets.at(-1)!.welcome!;
    assert.notEqual(resumed.nodeId, drained.nodeId);
    assert.equal(resumed.epoch, epoch);
    assert.equal(resumed.recovered, true);
    assert.deepEqual(
      await laptop.messages(),
      [1, 2, 3].map((seq) => ({ seq, epoch })),
    );
    assert.deepEqual((await laptop.covers()).map((c) => [c.job, c.status]), [
      [during, "done"],
      [job, "done"],
    ]);
    // The phone got 2 and 3 once, live or replayed, whichever node it was on.
    await phone.until(
      async () => (await phone.messages()).length === 3,
      "seqs 2 and 3",
    );
    assert.deepEqual(
      await phone.messages(),
      [1, 2, 3].map((seq) => ({ seq, epoch })),
    );
    if (phoneNode !== drained.nodeId) {
      assert.equal(
        (await phone.sockets()).length,
        1,
        "the phone's node was not drained",
      );
    }

    // 4003 from the API: both tabs stop for good.
    const opened = await Promise.all(
      tabs.map(async (t) => (await t.sockets()).length),
    );
    const kicked = await api(cluster, "POST", "/v1/users/carol/disconnect", {});
    assert.equal(kicked.body.closed, 2);
    for (const tab of tabs) {
      await tab.until(async () => await tab.state() === "closed", "closed");
      assert.equal((await tab.sockets()).at(-1)!.closeCode, 4003);
    }
    // Longer than the first backoff (at most 500 ms) several times over.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const [i, tab] of tabs.entries()) {
      assert.equal(await tab.state(), "closed");
      assert.equal(
        (await tab.sockets()).length,
        opened[i],
        "no new connection",
      );
    }
    const presence = await api(cluster, "GET", "/v1/users/carol/presence");
    assert.equal(presence.body.online, false);
  },
);
