/**
 * The demo in Chromium against the embedded process (`deno task start`, run
 * in-process here with the development secrets, which mount the demo): two
 * tabs are two devices of one user; an upload on one reaches both; a
 * restarted process is survived.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../shared/config.ts";
import { silentLogger } from "../../shared/log.ts";
import { decodeImage } from "../../demo/image/codec.ts";
import type { Embedded } from "../../gateway/embedded.ts";
import { startEmbeddedDemo } from "../../demo/embedded_demo.ts";
import { browserTest } from "../_support/browser.ts";
import { freePort } from "../_support/until.ts";
import { demoClient, DemoPage, testCover } from "./_demo_page.ts";
import { TcpBalancer } from "./_tcp_balancer.ts";

const SCREENSHOT = new URL("../../docs/screenshots/demo.png", import.meta.url);
const JOB_MS = 1200;

/** The embedded process on `port`, as `deno task start` runs it (dev secrets). */
function startDemoEmbedded(port: number): Promise<Embedded> {
  const { config } = loadConfig({ PORT: String(port) }, "embedded");
  return startEmbeddedDemo(config, silentLogger, { jobMs: JOB_MS });
}

browserTest(
  "demo embedded - an upload on one device shows the result on both devices",
  async (browser) => {
    await using embedded = await startDemoEmbedded(0);
    const laptop = await DemoPage.open(
      browser,
      embedded.url,
      "alice",
      "laptop",
    );
    const phone = await DemoPage.open(browser, embedded.url, "alice", "phone");
    for (const tab of [laptop, phone]) {
      await tab.until(
        async () => await tab.deviceCount() === 2,
        "2 devices listed",
      );
    }

    const job = await laptop.upload(
      { name: "sunset.png", mimeType: "image/png", buffer: testCover() },
      "grayscale",
    );
    // The uploading tab shows the job at once; the result comes by push.
    assert.deepEqual((await laptop.covers())[0], {
      job,
      status: "processing",
      devices: null,
    });
    for (const tab of [laptop, phone]) {
      await tab.until(
        async () => await tab.resultLoaded(job),
        "the result image",
      );
      await tab.until(
        async () => (await tab.covers())[0]?.devices === 2,
        "the push answer: 2 devices",
      );
      assert.deepEqual(await tab.covers(), [{
        job,
        status: "done",
        devices: 2,
      }]);
      assert.deepEqual((await tab.messages()).map((m) => m.seq), [1]);
    }
    // The pushed URL serves the filtered pixels: same size, every pixel gray.
    const src = await phone.page.getAttribute(
      `.cover[data-job="${job}"] img:not(.before)`,
      "src",
    );
    const result = decodeImage(
      "png",
      new Uint8Array(await (await fetch(src!)).arrayBuffer()),
      { maxSide: 1000, maxPixels: 1e6 },
    );
    assert.deepEqual([result.width, result.height], [480, 270]);
    for (let i = 0; i < result.data.length; i += 4) {
      assert.ok(
        result.data[i] === result.data[i + 1] &&
          result.data[i] === result.data[i + 2],
      );
    }

    // Two more covers from the other device, for the screenshot: the page's
    // sample, and a JPEG, which comes back as a JPEG the browser shows.
    const more = [
      await phone.uploadSample("sepia"),
      await phone.upload(
        {
          name: "sunset.jpg",
          mimeType: "image/jpeg",
          buffer: testCover("jpeg"),
        },
        "invert",
      ),
    ];
    for (const tab of [laptop, phone]) {
      await tab.until(async () => {
        const loaded = await Promise.all(more.map((j) => tab.resultLoaded(j)));
        return loaded.every(Boolean) &&
          (await tab.covers()).every((c) => c.devices === 2);
      }, "3 covers pushed to 2 devices");
      assert.deepEqual((await tab.messages()).map((m) => m.seq), [1, 2, 3]);
    }
    const jpegSrc = await phone.page.getAttribute(
      `.cover[data-job="${more[1]}"] img:not(.before)`,
      "src",
    );
    const jpeg = await fetch(jpegSrc!);
    assert.equal(jpeg.headers.get("content-type"), "image/jpeg");
    const inverted = decodeImage(
      "jpeg",
      new Uint8Array(await jpeg.arrayBuffer()),
      { maxSide: 1000, maxPixels: 1e6 },
    );
    assert.deepEqual([inverted.width, inverted.height], [480, 270]);
    const shot = await laptop.page.screenshot({ fullPage: true });
    if (Deno.env.get("WSGW_UPDATE_SCREENSHOT") === "1") {
      await Deno.mkdir(new URL(".", SCREENSHOT), { recursive: true });
      await Deno.writeFile(SCREENSHOT, shot);
    }
  },
);

browserTest(
  "demo embedded - after a restart the client reconnects by itself and shows what the new history holds, each once",
  async (browser) => {
    const port = freePort();
    let embedded = await startDemoEmbedded(port);
    await using balancer = TcpBalancer.start(
      () => [`http://127.0.0.1:${port}`],
    );
    try {
      const tabs = [
        await DemoPage.open(browser, balancer.url, "bob", "laptop"),
        await DemoPage.open(browser, balancer.url, "bob", "phone"),
      ];
      const before = await tabs[0]!.upload(
        {
          name: "before.png",
          mimeType: "image/png",
          buffer: testCover(),
        },
        "sepia",
      );
      for (const tab of tabs) {
        await tab.until(
          async () => (await tab.messages()).length === 1,
          "seq 1",
        );
      }
      const first = (await tabs[0]!.sockets())[0]!.welcome;
      const oldEpoch = first!.epoch;

      // Clients can reach nothing while the process restarts and while the
      // script pushes: what they show afterwards comes from the replay.
      balancer.hold();
      await embedded.shutdown();
      for (const tab of tabs) {
        await tab.until(
          async () => await tab.state() === "connecting",
          "reconnecting",
        );
      }
      embedded = await startDemoEmbedded(port);
      const script = await demoClient(embedded.url, "bob", "script");
      const during = await script.upload(
        testCover(),
        "meanwhile.png",
        "invert",
      );
      await waitForPush(script, during);
      const push = await fetch(`${embedded.url}/v1/push`, {
        method: "POST",
        headers: {
          authorization: "Bearer dev-api-key",
          "content-type": "application/json",
        },
        body: JSON.stringify({
          users: ["bob"],
          data: { text: "pushed while away" },
        }),
      });
      assert.deepEqual((await push.json()).results, [{
        user: "bob",
        seq: 2,
        devices: 0,
      }]);
      balancer.release();

      for (const tab of tabs) {
        await tab.until(
          async () => (await tab.messages()).length === 3,
          "the new history replayed",
          20_000,
        );
        await tab.until(
          async () => await tab.resultLoaded(during),
          "the new result image",
        );
        const sockets = await tab.sockets();
        const last = sockets.at(-1)!;
        const newEpoch = last.welcome!.epoch;
        assert.notEqual(newEpoch, oldEpoch);
        // Its drain sends 1012, but embedded shutdown() stops the server in
        // the same breath and Deno closes the socket with 1001 first: either
        // way a code the client reconnects after.
        assert.ok([1001, 1012].includes(sockets[0]!.closeCode!));
        // Every reconnect attempt resumed from where the tab stood.
        for (const socket of sockets.slice(1)) {
          const params = new URL(socket.url).searchParams;
          assert.equal(params.get("since"), "1");
          assert.equal(params.get("epoch"), oldEpoch);
        }
        assert.equal(last.welcome!.recovered, false);
        assert.deepEqual(await tab.messages(), [
          { seq: 1, epoch: oldEpoch },
          { seq: 1, epoch: newEpoch },
          { seq: 2, epoch: newEpoch },
        ]);
        assert.deepEqual((await tab.covers()).map((c) => [c.job, c.status]), [
          [during, "done"],
          [before, "done"],
        ]);
        assert.equal(await tab.state(), "connected");
      }
    } finally {
      await embedded.shutdown();
    }
  },
);

async function waitForPush(
  script: Awaited<ReturnType<typeof demoClient>>,
  job: string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await script.job(job)).push) {
    if (Date.now() > deadline) throw new Error(`job ${job} was never pushed`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
