/**
 * Stored and forwarded `data` is spliced into frames as raw JSON text (to
 * encode each push once). Whatever writes that text (Redis, a forged
 * internal request) must not be able to add or override a frame's fields,
 * so every such text is checked to be exactly one JSON value before it
 * enters a frame.
 *
 * @module
 */

/**
 * True when `text` is exactly one JSON value (optionally surrounded by JSON
 * whitespace): spliced in after `"data":`, it ends where the value ends.
 */
export function isOneJsonValue(text: string): boolean {
  if (text.length === 0) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * True when a history entry can become a frame as stored: its data is one
 * JSON value and its `ts` a finite number (`NaN` is no JSON).
 */
export function isSplicableEntry(
  entry: { dataJson: string; ts: number },
): boolean {
  return Number.isFinite(entry.ts) && isOneJsonValue(entry.dataJson);
}
