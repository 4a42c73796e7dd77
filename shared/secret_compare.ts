/**
 * Constant-time comparison of secrets (API keys, the internal secret).
 *
 * @module
 */
const encoder = new TextEncoder();

/**
 * True when `given` equals one of `secrets`. Every secret is compared in
 * full, in a time that depends on the secrets' lengths only. Plain JS:
 * node:crypto's createHash + timingSafeEqual cost several ops per call
 * (two hashes per internal request), a visible share of the push path.
 */
export function matchesSecret(
  given: string,
  secrets: readonly string[],
): boolean {
  return indexOfSecret(given, secrets) !== -1;
}

/**
 * The index of the first of `secrets` that `given` equals, or -1; every
 * secret is compared in full whichever matches, so the time tells nothing of
 * which one did.
 */
export function indexOfSecret(
  given: string,
  secrets: readonly string[],
): number {
  const bytes = encoder.encode(given);
  let found = -1;
  secrets.forEach((secret, i) => {
    if (constantTimeEqual(bytes, encoder.encode(secret)) && found === -1) {
      found = i;
    }
  });
  return found;
}

function constantTimeEqual(given: Uint8Array, secret: Uint8Array): boolean {
  let diff = given.length ^ secret.length;
  for (let i = 0; i < secret.length; i++) diff |= (given[i] ?? 0) ^ secret[i]!;
  return diff === 0;
}
