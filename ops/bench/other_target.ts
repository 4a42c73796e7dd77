/**
 * The node a resuming bench client tries next.
 *
 * @module
 */

/**
 * A node index other than `current`, uniform over the other `targets - 1`
 * (`current` itself when there is no other): the clients of a dead node
 * spread over the survivors instead of all landing on its neighbour.
 * `random` is `Math.random` outside tests.
 */
export function otherTarget(
  current: number,
  targets: number,
  random: () => number = Math.random,
): number {
  if (targets < 2) return current;
  const pick = Math.floor(random() * (targets - 1));
  return pick >= current ? pick + 1 : pick;
}
