/**
 * The operator console in Chromium against the embedded process: opened
 * with an admin key, it finds a connected user, pushes to it (the client
 * gets the message), closes one device with 4003, drains the node; hostile
 * user ids, device names and bodies stay text; a key without the admin
 * scope opens nothing; no request leaves the origin.
 */
import assert from "node:assert/strict";
import { browserTest } from "../_support/browser.ts";
import { API_KEY, startTestGateway } from "../_support/embedded.ts";
import { TestClient } from "../_support/ws_client.ts";
import { ConsolePage } from "./_console_page.ts";

const PUSH_KEY = "push-scope-key-for-console";

browserTest(
  "console embedded - find a user, push to it, close one device with 4003, drain the node",
  async (browser) => {
    await using gw = await startTestGateway();
    const nodeId = gw.node.nodeId;
    const { client: phone } = await TestClient.welcomed(
      await gw.wsUrl("alice", { device: "phone" }),
    );
    const { client: laptop } = await TestClient.welcomed(
      await gw.wsUrl("alice", { device: "laptop" }),
    );
    const tab = await ConsolePage.open(browser, gw.url, API_KEY);
    await tab.until(
      async () =>
        (await tab.nodes()).find((n) => n.node === nodeId)?.connections ===
          "2",
      "the node with 2 connections",
    );
    const [node] = await tab.nodes();
    assert.equal(node!.cells[1], gw.url);
    assert.equal(node!.state, "no");
    assert.match(node!.cells[7]!, /in memory/);
    assert.match(
      await tab.page.locator("#backend-registry").innerText(),
      /^reachable/,
    );

    await tab.lookUp("alice");
    const devices = await tab.devices();
    assert.deepEqual(
      devices.map((d) => [d.node, d.cells[1], d.cells[4]]).sort(),
      [[nodeId, "laptop", "127.0.0.1"], [nodeId, "phone", "127.0.0.1"]],
    );
    assert.deepEqual(
      (await tab.table("#user-keys")).map((row) => row[0]),
      [`/wsgw/users/alice/${nodeId}`],
    );

    const answer = await tab.push({ text: "hello from the console" });
    assert.match(answer, /seq 1, 2 device\(s\) reached/);
    for (const client of [phone, laptop]) {
      const [message] = await client.waitMessages(1);
      assert.deepEqual(message!.data, { text: "hello from the console" });
    }
    await tab.until(
      async () => (await tab.page.locator("#user-seq").innerText()) === "1",
      "seq 1 in the history view",
    );
    assert.match(
      (await tab.table("#user-messages"))[0]!.join(" "),
      /hello from the console/,
    );

    // Cancel closes nothing; confirm closes the one device only.
    const phoneRow = devices.find((d) => d.cells[1] === "phone")!;
    await tab.disconnectDevice(phoneRow.conn, false);
    assert.equal(phone.isClosed, undefined);
    const question = await tab.disconnectDevice(phoneRow.conn);
    assert.match(question, /4003/);
    assert.equal((await phone.closed).code, 4003);
    await tab.until(
      async () => (await tab.devices()).length === 1,
      "one device left",
    );
    assert.equal(laptop.isClosed, undefined);

    await tab.drain(nodeId);
    assert.equal((await laptop.closed).code, 1012);
    await tab.until(
      async () => {
        const row = (await tab.nodes()).find((n) => n.node === nodeId);
        return row?.connections === "0" && /left the cluster/.test(row.state);
      },
      "the drained node at 0 connections, gone",
    );
    assert.deepEqual(tab.foreignRequests(), []);
    assert.deepEqual(tab.violations, []);
  },
);

browserTest(
  "console embedded - hostile user ids, device names and bodies are shown as text, never run",
  async (browser) => {
    await using gw = await startTestGateway();
    const user = `<img src=x onerror="window.__pwned='user'">`;
    const device = `<script>window.__pwned='device'</script>`;
    const body = `<img src=x onerror="window.__pwned='body'">`;
    const { client } = await TestClient.welcomed(
      await gw.wsUrl(user, { device }),
    );
    const pushed = await gw.api("POST", "/v1/push", {
      users: [user],
      data: body,
      id: `<b>${body}</b>`,
    });
    assert.equal(pushed.status, 200);
    await client.waitMessages(1);
    const tab = await ConsolePage.open(browser, gw.url, API_KEY);
    await tab.lookUp(user);
    await tab.until(
      async () => (await tab.devices()).length === 1,
      "the hostile device listed",
    );
    assert.equal((await tab.devices())[0]!.cells[1], device);
    assert.equal(await tab.page.locator("#user-name").innerText(), user);
    const [message] = await tab.table("#user-messages");
    assert.equal(message![1], `<b>${body}</b>`);
    assert.equal(message![4], JSON.stringify(body));
    assert.ok(
      (await tab.table("#user-keys"))[0]![0]!.endsWith(
        `/users/${encodeURIComponent(user)}/${gw.node.nodeId}`,
      ),
    );
    // Nothing the data held became an element or ran.
    assert.equal(await tab.page.locator("main img, main script").count(), 0);
    assert.equal(
      await tab.page.evaluate(() =>
        (globalThis as { __pwned?: string }).__pwned
      ),
      undefined,
    );
    // The push dialog quotes the user as text too.
    await tab.page.fill("#push-data", JSON.stringify(body));
    await tab.page.click("#push-form button[type=submit]");
    assert.ok((await tab.answer(false)).includes(user));
    assert.equal(await tab.page.locator("dialog img").count(), 0);
    assert.deepEqual(tab.foreignRequests(), []);
  },
);

browserTest(
  "console embedded - a key without the admin scope opens nothing: the page says 403 and forgets it",
  async (browser) => {
    await using gw = await startTestGateway({
      WSGW_API_KEYS: `${API_KEY},${PUSH_KEY}:push`,
    });
    const tab = await ConsolePage.open(browser, gw.url, PUSH_KEY);
    const status = await tab.until(async () => {
      const text = await tab.status();
      return /refused/.test(text) ? text : undefined;
    }, "the refusal");
    assert.match(status, /403 insufficient_scope/);
    assert.equal(await tab.page.locator("#main").isVisible(), false);
    assert.equal(await tab.page.locator("#key-form").isVisible(), true);
    // Storage holds nothing of the key.
    const stored = await tab.page.evaluate(
      "JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie])",
    ) as string;
    assert.ok(!stored.includes(PUSH_KEY));
    assert.ok(!tab.page.url().includes(PUSH_KEY));
  },
);
