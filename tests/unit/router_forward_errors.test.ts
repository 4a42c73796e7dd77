import assert from "node:assert/strict";
import { routerFixture } from "../_support/router_fixture.ts";
import { waitFor } from "../_support/until.ts";

Deno.test("metrics - forward errors of a node that left the cluster are dropped, so node ids do not pile up", async () => {
  await using f = await routerFixture();
  const scrape = async () => await (await f.request("/metrics")).text();
  const n1 = await f.addNode("n1");
  await f.connect(n1, "alice");
  n1.failWith = new Error("down");
  await (await f.request("/v1/push", { json: { users: ["alice"], data: 1 } }))
    .body?.cancel();
  assert.match(await scrape(), /wsgw_forward_errors_total\{node="n1"/);
  await n1.membership.leave();
  await waitFor(() => f.routes.node("n1") === undefined, {
    what: "n1 to leave the route cache",
  });
  assert.doesNotMatch(await scrape(), /node="n1"/);
});
