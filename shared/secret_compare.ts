/**
 * Constant-time comparison of secrets (API keys, the internal secret).
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";

/**
 * True when `given` equals one of `secrets`. Both sides are hashed first so
 * the comparison takes the same time whatever the lengths, and every secret
 * is compared (no early exit) so timing does not tell which one matched.
 */
export function matchesSecret(
  given: string,
  secrets: readonly string[],
): boolean {
  const digest = sha256(given);
  let found = false;
  for (const secret of secrets) {
    if (timingSafeEqual(digest, sha256(secret))) found = true;
  }
  return found;
}

function sha256(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}
