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
  const bytes = encoder.encode(given);
  let found = false;
  for (const secret of secrets) {
    if (constantTimeEqual(bytes, encoder.encode(secret))) found = true;
  }
  return found;
}

function constantTimeEqual(given: Uint8Array, secret: Uint8Array): boolean {
  let diff = given.length ^ secret.length;
  for (let i = 0; i < secret.length; i++) diff |= (given[i] ?? 0) ^ secret[i]!;
  return diff === 0;
}
