import assert from "node:assert/strict";
import { addressKey, ConnectGuard } from "../../gateway/connect_guard.ts";
import { HttpError, OverloadedError } from "../../shared/errors.ts";

function refusal(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof HttpError);
    return `${error.status} ${error.code}`;
  }
}

Deno.test("connect guard - origins outside the allowlist are 403; no Origin is not a browser", () => {
  const guard = new ConnectGuard({
    allowedOrigins: ["https://app.example.com"],
    connectRate: 0,
  });
  assert.equal(
    refusal(() => guard.check("https://app.example.com", "1.2.3.4")),
    undefined,
  );
  assert.equal(refusal(() => guard.check(null, "1.2.3.4")), undefined);
  assert.equal(
    refusal(() => guard.check("https://evil.example.com", "1.2.3.4")),
    "403 origin_forbidden",
  );
  assert.equal(
    refusal(() => guard.check("https://app.example.com.evil.com", "1.2.3.4")),
    "403 origin_forbidden",
  );
  const open = new ConnectGuard({ allowedOrigins: [], connectRate: 0 });
  assert.equal(
    refusal(() => open.check("https://anywhere.test", "1.2.3.4")),
    undefined,
  );
});

Deno.test("connect guard - an address gets a burst of twice the rate, then the rate", () => {
  let now = 0;
  const guard = new ConnectGuard({
    allowedOrigins: [],
    connectRate: 5,
    now: () => now,
  });
  const outcomes = Array.from(
    { length: 12 },
    () => refusal(() => guard.check(null, "10.0.0.1")),
  );
  assert.deepEqual(outcomes.filter((o) => o === undefined).length, 10);
  assert.equal(outcomes.at(-1), "429 rate_limited");
  // Others are not affected by the flood.
  assert.equal(refusal(() => guard.check(null, "10.0.0.2")), undefined);
  now += 200; // one token back at 5/s
  assert.equal(refusal(() => guard.check(null, "10.0.0.1")), undefined);
  assert.equal(
    refusal(() => guard.check(null, "10.0.0.1")),
    "429 rate_limited",
  );
});

Deno.test("connect guard - idle addresses are forgotten; a full table stops tracking new ones", () => {
  let now = 0;
  const guard = new ConnectGuard({
    allowedOrigins: [],
    connectRate: 1,
    maxTracked: 3,
    now: () => now,
  });
  for (const a of ["a", "b", "c"]) guard.check(null, a);
  assert.equal(guard.tracked, 3);
  guard.check(null, "d"); // table full, nothing idle yet: d is let through untracked
  assert.equal(guard.tracked, 3);
  now += 60_000;
  guard.check(null, "e");
  assert.equal(guard.tracked, 1);
});

Deno.test("connect guard - IPv6 addresses are limited per /64, mapped IPv4 as IPv4", () => {
  assert.equal(addressKey("203.0.113.9"), "203.0.113.9");
  assert.equal(addressKey("::ffff:203.0.113.9"), "203.0.113.9");
  assert.equal(addressKey("2001:db8:0:1::5"), "2001:db8:0:1::/64");
  assert.equal(
    addressKey("2001:0db8:0000:0001:aaaa:bbbb:cccc:dddd"),
    "2001:db8:0:1::/64",
  );
  assert.equal(addressKey("::1"), "0:0:0:0::/64");
});

Deno.test("connect guard - a node over its connect budget answers 503 overloaded with a spread Retry-After, whatever the address", () => {
  let now = 0;
  const draws = [0, 0.5, 0.99];
  const guard = new ConnectGuard({
    allowedOrigins: [],
    connectRate: 0,
    connectBudget: 2,
    now: () => now,
    random: () => draws.shift() ?? 0,
  });
  // A burst of twice the budget, from as many addresses as clients.
  for (let i = 0; i < 4; i++) {
    assert.equal(refusal(() => guard.check(null, `10.1.0.${i}`)), undefined);
  }
  const retryAfters: number[] = [];
  for (let i = 4; i < 7; i++) {
    try {
      guard.check(null, `10.1.0.${i}`);
      assert.fail("over budget, yet admitted");
    } catch (error) {
      assert.ok(error instanceof OverloadedError);
      assert.equal(error.status, 503);
      assert.equal(error.code, "overloaded");
      retryAfters.push(error.retryAfter);
    }
  }
  assert.deepEqual(retryAfters, [1, 2, 3]);
  now += 500; // one connect back at 2/s
  assert.equal(refusal(() => guard.check(null, "10.1.0.9")), undefined);
  assert.equal(refusal(() => guard.check(null, "10.1.0.9")), "503 overloaded");
});

Deno.test("connect guard - no budget by default", () => {
  const guard = new ConnectGuard({ allowedOrigins: [], connectRate: 0 });
  for (let i = 0; i < 1000; i++) {
    assert.equal(
      refusal(() => guard.check(null, `10.2.${i >> 8}.${i & 255}`)),
      undefined,
    );
  }
});
