/**
 * `deno task cluster`: a local wsgw cluster without Docker (PROTOCOL.md
 * "Processes and commands"). The launcher is a library too: tests and chaos
 * tests call {@link startCluster}.
 *
 * @example
 * ```sh
 * deno task cluster --nodes 3 --state-file /tmp/wsgw.json
 * deno task cluster --nodes 2 --routers 2 --lb --lease-ttl 3
 * ```
 *
 * @module
 */
import { describeStatus } from "./cluster/managed_process.ts";
import {
  ClusterUsageError,
  parseClusterArgs,
  USAGE,
} from "./cluster/cli_args.ts";
import { createCluster } from "./cluster/cluster.ts";
import {
  type ControlServer,
  startControlServer,
} from "./cluster/control_server.ts";
import { createPrinter } from "./cluster/output.ts";
import { writeStateFile } from "../shared/cluster_state.ts";
import { clusterSummary } from "./cluster/summary.ts";

export {
  type Cluster,
  type ClusterOptions,
  ClusterStartError,
  createCluster,
  type GatewayHandle,
  type ProcessHandle,
  startCluster,
} from "./cluster/cluster.ts";
export {
  type ClusterState,
  readStateFile,
  stateProblem,
} from "../shared/cluster_state.ts";

/**
 * Runs the launcher until a signal stops it; resolves with the exit status:
 * 0 after a clean stop, 1 when the cluster could not start, 2 for a bad
 * command line, 130 after a second signal.
 */
export async function main(args: string[]): Promise<number> {
  const printer = createPrinter();
  let parsed;
  try {
    parsed = parseClusterArgs(args, Deno.env.toObject());
  } catch (error) {
    if (!(error instanceof ClusterUsageError)) throw error;
    printer.alarm(`${error.message} (see --help)`);
    return 2;
  }
  if (parsed.help) {
    printer.text(USAGE);
    return 0;
  }
  const { options, stateFile, rawLogs } = parsed;
  const lines = createPrinter({ raw: rawLogs });
  const began = performance.now();
  let up = false;
  let cluster;
  try {
    cluster = await createCluster({
      ...options,
      onLine: lines.line,
      onExit: (name, status, expected) => {
        const how = describeStatus(status);
        if (expected) printer.info(`${name} exited (${how})`);
        // While starting, the start error says it, with the last lines.
        else if (!up) printer.alarm(`${name} exited during start (${how})`);
        // A gateway exits 0 after a drain asked by SIGTERM from outside
        // (`ctl drain` with an old state file, `kill <pid>`): planned.
        else if (status.success) {
          printer.info(
            `${name} exited cleanly (${how}); the rest keep running`,
          );
        } else {
          printer.alarm(
            `!!! ${name} DIED UNEXPECTEDLY (${how}); the rest keep running`,
          );
        }
      },
      log: printer.info,
    });
  } catch (error) {
    printer.alarm(error instanceof Error ? error.message : String(error));
    return error instanceof RangeError ? 2 : 1;
  }

  let signals = 0;
  const stopped = Promise.withResolvers<void>();
  const onSignal = () => {
    if (++signals === 1) {
      printer.info("stopping: gateways drain first (Ctrl-C again to kill)");
      cluster.stop().then(stopped.resolve, stopped.reject);
    } else {
      printer.alarm("killing every process now");
      cluster.kill().then(stopped.resolve, stopped.reject);
    }
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  // Holds the event loop open even if every child dies.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const stateFiles = [`${cluster.dir}/state.json`];
  let control: ControlServer | undefined;
  if (stateFile) stateFiles.push(stateFile);
  try {
    try {
      await cluster.start();
      up = true;
    } catch (error) {
      if (signals > 0) return 130;
      printer.alarm(
        `the cluster did not start: ${
          error instanceof Error ? error.message : error
        }`,
      );
      return 1;
    }
    const running = cluster;
    control = startControlServer({
      processes: () => [
        running.etcd,
        running.redis,
        ...running.gateways,
        ...running.routers,
        ...(running.lb ? [running.lb] : []),
      ],
      addGateway: () => running.addGateway(),
      removeGateway: (name) => running.removeGateway(name),
      changed: () => writeStates(),
      log: printer.info,
    });
    const { url, token } = control;
    const writeStates = async () => {
      for (const file of stateFiles) {
        await writeStateFile(file, {
          ...running.state(),
          control: { url, token },
        });
      }
    };
    const ms = performance.now() - began;
    // The summary first: whoever sees the state file sees the summary too.
    printer.info(clusterSummary(cluster, ms, stateFiles.at(-1)!));
    await writeStates();
    await stopped.promise;
    printer.info("stopped");
    return signals > 1 ? 130 : 0;
  } finally {
    clearInterval(keepAlive);
    await control?.[Symbol.asyncDispose]();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    // The cluster is gone: a state file would only mislead ctl.
    if (stateFile) await Deno.remove(stateFile).catch(() => {});
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
