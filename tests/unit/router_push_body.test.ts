import assert from "node:assert/strict";
import { BadRequestError } from "../../shared/errors.ts";
import { parse, parsePushRequest, PushRequest } from "../../router/schemas.ts";

const outcome = (check: () => unknown) => {
  try {
    return { ok: check() };
  } catch (error) {
    assert.ok(error instanceof BadRequestError);
    return { error: error.message };
  }
};

Deno.test("push body - the hand check agrees with the schema, answer and message", () => {
  const long = "x".repeat(129);
  const pairs = "😀".repeat(100); // 200 UTF-16 units, 100 characters
  const bodies: unknown[] = [
    { users: ["a"], data: 1 },
    { users: ["a", "b"], data: { x: [1] }, id: "p-1", device: "phone" },
    { users: ["a"], data: null, extra: true },
    { users: [pairs], data: 1, id: pairs },
    { users: ["a"], data: 1, id: "😀".repeat(129) },
    { users: ["a"], data: 1, id: long },
    { users: ["a"], data: 1, id: "" },
    { users: ["a"], data: 1, id: 5 },
    { users: ["a"], data: 1, device: "" },
    { users: ["a"], data: 1, device: long },
    { users: [long], data: 1 },
    { users: [""], data: 1 },
    { users: ["a\u0001"], data: 1 },
    { users: ["."], data: 1 },
    { users: ["\ud800"], data: 1 },
    { users: [7], data: 1 },
    { users: [], data: 1 },
    { users: "a", data: 1 },
    { users: ["a"] },
    { data: 1 },
    [],
    null,
    "text",
  ];
  for (const body of bodies) {
    assert.deepEqual(
      outcome(() => parsePushRequest(body)),
      outcome(() => parse(PushRequest, body)),
      JSON.stringify(body),
    );
  }
});
