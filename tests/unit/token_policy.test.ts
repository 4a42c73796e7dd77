import assert from "node:assert/strict";
import { UnauthorizedError } from "../../shared/errors.ts";
import { signToken, TokenVerifier } from "../../shared/token.ts";

const NEW = "new-secret-0123456789abcdef0123456";
const OLD = "old-secret-0123456789abcdef0123456";

async function refusal(
  verifier: TokenVerifier,
  token: string,
): Promise<{ code: string; message: string }> {
  try {
    await verifier.verify(token);
  } catch (error) {
    assert.ok(error instanceof UnauthorizedError, String(error));
    assert.ok(!error.message.includes(token), "never echoes the token");
    return { code: error.code, message: error.message };
  }
  assert.fail("expected the token to be refused");
}

Deno.test("token - during a rollover both the new and the previous secret verify", async () => {
  const verifier = new TokenVerifier({ secret: NEW, previousSecret: OLD });
  assert.equal(
    (await verifier.verify(await signToken(NEW, { sub: "a" }))).user,
    "a",
  );
  assert.equal(
    (await verifier.verify(await signToken(OLD, { sub: "b" }))).user,
    "b",
  );
  assert.deepEqual(
    await refusal(verifier, await signToken("a-third-secret", { sub: "c" })),
    { code: "token_signature", message: "token signature is invalid" },
  );
});

Deno.test("token - after the rollover the previous secret is refused", async () => {
  const verifier = new TokenVerifier({ secret: NEW });
  assert.equal(
    (await refusal(verifier, await signToken(OLD, { sub: "a" }))).code,
    "token_signature",
  );
});

Deno.test("token - audience and issuer are required when configured", async () => {
  const verifier = new TokenVerifier({
    secret: NEW,
    audience: "wsgw",
    issuer: "https://auth.example.com",
  });
  const good = await signToken(NEW, {
    sub: "a",
    aud: "wsgw",
    iss: "https://auth.example.com",
  });
  assert.equal((await verifier.verify(good)).user, "a");
  for (
    const claims of [
      { sub: "a", iss: "https://auth.example.com" },
      { sub: "a", aud: "other", iss: "https://auth.example.com" },
      { sub: "a", aud: "wsgw" },
      { sub: "a", aud: "wsgw", iss: "https://evil.example.com" },
    ]
  ) {
    const { code, message } = await refusal(
      verifier,
      await signToken(NEW, claims),
    );
    assert.equal(code, "token_invalid");
    assert.match(message, /^token claim "(aud|iss)" is missing or invalid$/);
  }
});

Deno.test("token - nbf and exp are checked with the configured clock skew", async () => {
  const now = Math.floor(Date.now() / 1000);
  const verifier = new TokenVerifier({ secret: NEW, clockSkew: 30 });
  // Inside the skew: a clock 20 s ahead of ours, a token 20 s past exp.
  assert.ok(
    await verifier.verify(await signToken(NEW, { sub: "a", nbf: now + 20 })),
  );
  assert.ok(
    await verifier.verify(await signToken(NEW, { sub: "a" }, now - 20)),
  );
  assert.deepEqual(
    await refusal(verifier, await signToken(NEW, { sub: "a", nbf: now + 120 })),
    { code: "token_invalid", message: "token is not valid yet (nbf)" },
  );
  assert.equal(
    (await refusal(verifier, await signToken(NEW, { sub: "a" }, now - 60)))
      .code,
    "token_expired",
  );
  const strict = new TokenVerifier({ secret: NEW, clockSkew: 0 });
  assert.equal(
    (await refusal(strict, await signToken(NEW, { sub: "a", nbf: now + 20 })))
      .code,
    "token_invalid",
  );
});
