/**
 * What a node tells about itself beyond its counts (`NodeApi.stats`): its
 * release, its registry lease and running totals, from which the operator
 * console draws connects, closes and deliveries per second; and one
 * connection as presence shows it.
 *
 * @module
 */
import type { DeviceInfo, NodeStats } from "../shared/node_api.ts";
import type { NodeMembership } from "../shared/registry/mod.ts";
import { VERSION } from "../shared/version.ts";
import type { ChannelInfo } from "./channel_session.ts";
import type { GatewayMetrics } from "./metrics.ts";

/** The parts of {@link NodeStats} after the counts. */
export async function statsExtras(
  metrics: GatewayMetrics,
  membership: NodeMembership | undefined,
): Promise<Pick<NodeStats, "version" | "lease" | "counters">> {
  return {
    version: VERSION,
    ...(membership
      ? {
        lease: { id: membership.leaseId ?? null, healthy: membership.healthy },
      }
      : {}),
    counters: {
      connects: await total(metrics.connects),
      closes: await total(metrics.disconnects),
      deliveries: await total(metrics.delivered),
    },
  };
}

/** One connection of this node as presence lists it. */
export function deviceOf(info: ChannelInfo, nodeId: string): DeviceInfo {
  const { connId, device, connectedAt, remoteAddress } = info;
  return {
    connId,
    nodeId,
    device,
    connectedAt,
    ...(remoteAddress === undefined ? {} : { remoteAddress }),
  };
}

/** The sum of a counter over all its labels. */
async function total(
  counter: { get(): Promise<{ values: { value: number }[] }> },
): Promise<number> {
  let sum = 0;
  for (const { value } of (await counter.get()).values) sum += value;
  return sum;
}
