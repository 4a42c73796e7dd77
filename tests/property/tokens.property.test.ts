/**
 * Property: no token an attacker can make gets in, and every refusal is one
 * of the specified 401 codes with a message that does not echo the token.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { UnauthorizedError } from "../../shared/errors.ts";
import { userIdProblem } from "../../shared/protocol.ts";
import { TokenVerifier } from "../../shared/token.ts";
import { base64url, hmacJwt } from "./_arbitraries.ts";

const SECRET = "property-secret-0123456789abcdef";
const CODES = [
  "token_missing",
  "token_invalid",
  "token_signature",
  "token_expired",
];
const verifier = new TokenVerifier({ secret: SECRET });

async function outcome(token: string): Promise<string> {
  try {
    const claims = await verifier.verify(token);
    return `ok:${claims.user}`;
  } catch (error) {
    assert.ok(error instanceof UnauthorizedError, `not a 401: ${error}`);
    assert.ok(CODES.includes(error.code), error.code);
    if (token.length > 12) {
      assert.ok(!error.message.includes(token), "the token is not echoed");
    }
    return error.code;
  }
}

const header = fc.record({
  alg: fc.oneof(
    fc.constantFrom(
      "none",
      "HS256",
      "HS384",
      "HS512",
      "RS256",
      "ES256",
      "hs256",
    ),
    fc.string(),
  ),
  typ: fc.option(fc.constant("JWT"), { nil: undefined }),
});

Deno.test("property - random strings and forged JWTs are always refused with a specified 401", async () => {
  const forged = fc.tuple(header, fc.jsonValue(), fc.string()).map((
    [h, payload, signature],
  ) =>
    `${base64url(JSON.stringify(h))}.${base64url(JSON.stringify(payload))}.${
      base64url(signature)
    }`
  );
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.string(), fc.string({ unit: "binary" }), forged),
      async (token) => {
        assert.ok(!(await outcome(token)).startsWith("ok:"));
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("property - a token signed with the right secret but another algorithm is refused", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("HS384", "HS512"),
      fc.string({ minLength: 1 }),
      async (alg, sub) => {
        const exp = Math.floor(Date.now() / 1000) + 60;
        const token = await hmacJwt(SECRET, alg, { sub, exp });
        assert.equal(await outcome(token), "token_invalid");
      },
    ),
    { numRuns: 50 },
  );
});

Deno.test("property - well-signed tokens with random claims: accepted exactly when the claims are valid", async () => {
  const now = Math.floor(Date.now() / 1000);
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        sub: fc.oneof(
          fc.string({ unit: "grapheme" }),
          fc.string({ unit: "binary" }),
          fc.jsonValue(),
        ),
        exp: fc.oneof(
          fc.integer({ min: now - 3600, max: now + 3600 }),
          fc.jsonValue(),
        ),
        device: fc.option(
          fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue()),
          { nil: undefined },
        ),
      }, { requiredKeys: [] }),
      async (claims) => {
        const token = await hmacJwt(SECRET, "HS256", claims);
        const result = await outcome(token);
        const valid = typeof claims.exp === "number" && claims.exp > now + 10 &&
          userIdProblem(claims.sub) === undefined &&
          (claims.device === undefined ||
            (typeof claims.device === "string" && claims.device.length <= 128));
        if (valid) assert.equal(result, `ok:${claims.sub}`);
        const surelyInvalid = typeof claims.exp !== "number" ||
          claims.exp < now - 10 ||
          userIdProblem(claims.sub) !== undefined ||
          (claims.device !== undefined &&
            !(typeof claims.device === "string" &&
              claims.device.length <= 128));
        if (surelyInvalid) {
          assert.ok(!result.startsWith("ok:"), JSON.stringify(claims));
        }
      },
    ),
    { numRuns: 300 },
  );
});
