/**
 * A node's connect budget (`WSGW_CONNECT_BUDGET`) against a real embedded
 * process: past it, new sockets get 503 `overloaded` with a `Retry-After` of
 * 1-3 s, whichever address they come from, while open sockets keep working.
 */
import assert from "node:assert/strict";
import { JWT_SECRET, startTestGateway } from "../_support/embedded.ts";
import { rawUpgrade, TestClient } from "../_support/ws_client.ts";
import { signToken } from "../../shared/token.ts";

Deno.test("limits - a node over its connect budget answers 503 with Retry-After to every address", async () => {
  await using gw = await startTestGateway({
    WSGW_CONNECT_BUDGET: "1",
    WSGW_CONNECT_RATE: "0",
  });
  const { client: first } = await TestClient.welcomed(
    await gw.wsUrl("first"),
  );
  const statuses: number[] = [];
  const refused: { retryAfter: number; code: string }[] = [];
  const began = performance.now();
  // A storm from 30 addresses, one socket each: only the budget limits it.
  for (let i = 0; i < 30; i++) {
    const token = await signToken(JWT_SECRET, { sub: `storm-${i}` });
    const answer = await rawUpgrade(gw.url, `/ws?token=${token}`, {
      from: `127.0.9.${i + 1}`,
    });
    statuses.push(answer.status);
    if (answer.status === 503) {
      refused.push({
        retryAfter: Number(answer.headers.get("retry-after")),
        code: JSON.parse(answer.body).error.code,
      });
    }
  }
  // A burst of twice the budget (one taken by "first"), then one a second.
  const admitted = 2 + Math.ceil((performance.now() - began) / 1000);
  const ok = statuses.filter((s) => s === 101).length;
  assert.ok(ok <= admitted, `${statuses}`);
  assert.equal(refused.length, 30 - ok, `${statuses}`);
  assert.ok(refused.length > 0);
  for (const { retryAfter, code } of refused) {
    assert.equal(code, "overloaded");
    assert.ok(retryAfter >= 1 && retryAfter <= 3, `Retry-After ${retryAfter}`);
  }
  // The open socket is not part of the budget: it still gets pushes.
  const push = await gw.api("POST", "/v1/push", {
    users: ["first"],
    data: "still here",
  });
  assert.equal(push.body.results[0].devices, 1);
  await first.next((f) => f.type === "message" && f.data === "still here");
  await first.close();
});
