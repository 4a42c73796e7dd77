// deno-lint-ignore-file no-console
/**
 * `deno task bench <scenario>`: wsgw against a raw Deno server and Socket.IO
 * with the Redis adapter (on Node; `sio-deno` under Deno's Node layer),
 * driven by the same load generator (child processes speaking raw
 * WebSocket). Progress on stderr; the result JSON goes to
 * `ops/bench/results/<scenario>-<time>.json`, or stdout with `--json`.
 *
 * @example
 * ```sh
 * deno task bench push --runs 3
 * deno task bench push --systems sio,sio-deno --devices 1 --push-rate 400
 * deno task bench fanout-cost --node-counts 1,2,4
 * deno task bench latency --systems wsgw,sio --nodes 4 --runs 3
 * deno task bench connections --sockets 100000 --nodes 7 --clients 7 --systems wsgw
 * deno task bench registry --mappings 1000000
 * deno task bench storm --sockets 40000 --nodes 4
 * deno task bench hold --sockets 100000 --nodes 8 --hold 60 --push-rate 50
 * deno task bench wakeup --runs 3 --duration 10
 * ```
 * @module
 */
import { parseBenchArgs } from "./options.ts";
import { ensureNodePeers, nodeVersion } from "./node_peers.ts";
import { loadAverage } from "./proc_stats.ts";
import { broadcastScenario } from "./scenarios/broadcast.ts";
import { connectionsScenario } from "./scenarios/connections.ts";
import { fanoutCostScenario } from "./scenarios/fanout_cost.ts";
import { latencyScenario } from "./scenarios/latency.ts";
import { holdScenario } from "./scenarios/hold.ts";
import { pushScenario } from "./scenarios/push.ts";
import { registryScenario } from "./scenarios/registry.ts";
import { stormScenario } from "./scenarios/storm.ts";
import { wakeupScenario } from "./scenarios/wakeup.ts";

const SCENARIOS = {
  connections: connectionsScenario,
  broadcast: broadcastScenario,
  push: pushScenario,
  "fanout-cost": fanoutCostScenario,
  latency: latencyScenario,
  registry: registryScenario,
  storm: stormScenario,
  hold: holdScenario,
  wakeup: wakeupScenario,
} as const;

/** Machine facts recorded with every result. */
async function machine(): Promise<Record<string, unknown>> {
  const run = async (cmd: string, args: string[]) => {
    try {
      const out = await new Deno.Command(cmd, {
        args,
        stdout: "piped",
        stderr: "null",
      }).output();
      return new TextDecoder().decode(out.stdout).trim();
    } catch {
      return "";
    }
  };
  return {
    nproc: Number(await run("nproc", [])),
    memTotalGiB: Number((Deno.systemMemoryInfo().total / 2 ** 30).toFixed(1)),
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    uptime: await run("uptime", []),
  };
}

/** Runs the scenario named in `args`; resolves with the exit status. */
export async function main(args: string[]): Promise<number> {
  const say = (text: string) => console.error(text);
  let options;
  try {
    options = parseBenchArgs(args, say);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const onNode = options.systems.includes("sio");
  if (onNode) {
    try {
      // Before any system starts, so the install is not timed with one.
      await ensureNodePeers(say);
    } catch (error) {
      console.error(error instanceof Error ? error.message : String(error));
      return 1;
    }
  }
  const began = new Date();
  const before = {
    ...await machine(),
    ...(onNode ? { node: await nodeVersion() } : {}),
  };
  say(`${options.scenario}: load average ${loadAverage()} at start`);
  const { say: _, ...flags } = options;
  const figures = await SCENARIOS[options.scenario as keyof typeof SCENARIOS](
    options,
  );
  const result = {
    scenario: options.scenario,
    command: `deno task bench ${args.join(" ")}`,
    startedAt: began.toISOString(),
    seconds: Math.round((Date.now() - began.getTime()) / 1000),
    machine: before,
    loadAverageAtEnd: loadAverage(),
    options: flags,
    ...figures,
  };
  const json = JSON.stringify(result, null, 2);
  if (options.json) console.log(json);
  const out = options.out ?? (options.json ? undefined : new URL(
    `./results/${options.scenario}-${
      began.toISOString().replace(/[:.]/g, "-")
    }.json`,
    import.meta.url,
  ).pathname);
  if (out) {
    await Deno.mkdir(new URL(".", `file://${out}`).pathname, {
      recursive: true,
    });
    await Deno.writeTextFile(out, json + "\n");
    say(`result: ${out}`);
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
