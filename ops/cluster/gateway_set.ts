/**
 * Gateways added to and removed from a running local cluster (`ctl cluster
 * add-gateway`, `remove`), with haproxy reloaded each time: its master
 * starts a worker with the new config on SIGUSR2, the old worker keeps the
 * connections it holds, and the launcher waits until `show stat` lists
 * exactly the gateways it should, each up.
 *
 * @module
 */
import {
  ClusterStartError,
  type GatewayHandle,
  type Handle,
  type Lifecycle,
} from "./handle.ts";
import { waitForLb } from "./lb_socket.ts";
import { fixedPorts, freePort, type PortPlan } from "./ports.ts";
import { type GatewayProcess, lbSocket } from "./processes.ts";

/** What {@link gatewaySet} changes and needs; the arrays are the cluster's own. */
export type GatewaySetup = {
  gateways: GatewayProcess[];
  /** Every process of the cluster (what a kill reaches). */
  all: Handle[];
  ports: PortPlan;
  fixed: boolean;
  portBase: number | undefined;
  lb: Handle | null;
  dir: string;
  readyTimeoutMs: number;
  lifecycle: Lifecycle;
  gatewayHandle: (
    ports: { public: number; internal: number },
    nodeId: string,
  ) => GatewayProcess;
  say: (message: string) => void;
};

/** Adds and removes gateways of one cluster. */
export function gatewaySet(setup: GatewaySetup): {
  addGateway(): Promise<GatewayHandle>;
  removeGateway(nodeId: string): Promise<void>;
} {
  const { gateways, all, lb } = setup;
  const reloadLb = async () => {
    if (!lb?.running) return;
    lb.build(); // rewrites haproxy.cfg from the current gateways
    await lb.kill("SIGUSR2");
    const want = gateways.map((g) => g.nodeId).sort().join(",");
    await waitForLb(lbSocket(setup.dir), want, setup.readyTimeoutMs);
    setup.say(`haproxy reloaded: ${want}`);
  };
  return {
    async addGateway() {
      if (setup.lifecycle.stopping) {
        throw new ClusterStartError("the cluster is stopping");
      }
      const n = 1 +
        Math.max(0, ...gateways.map((g) => Number(g.nodeId.slice(3))));
      const p = setup.fixed
        ? fixedPorts(setup.portBase!, n, 1).gateways[n - 1]!
        : { public: freePort(), internal: freePort() };
      const gateway = setup.gatewayHandle(p, `gw-${n}`);
      await gateway.start();
      gateway.started = true;
      setup.ports.gateways.push(p);
      gateways.push(gateway);
      all.push(gateway);
      await reloadLb();
      return gateway;
    },
    async removeGateway(nodeId) {
      const gateway = gateways.find((g) => g.nodeId === nodeId);
      if (!gateway) throw new RangeError(`no gateway ${nodeId}`);
      if (gateways.length === 1) {
        throw new RangeError(`${nodeId} is the last gateway; add one first`);
      }
      // Drains first: haproxy takes it out on its 503 before it closes clients.
      await gateway.stop();
      gateways.splice(gateways.indexOf(gateway), 1);
      all.splice(all.indexOf(gateway), 1);
      await reloadLb();
    },
  };
}
