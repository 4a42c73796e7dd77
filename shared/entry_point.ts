/**
 * What every `main.ts` does the same way: read the config from the
 * environment (exit 2 with a message naming the variable when it is bad), and
 * shut down cleanly on the first SIGINT/SIGTERM, at once on the second.
 *
 * @module
 */
import { type Config, loadConfig, type Mode } from "./config.ts";
import { ConfigError } from "./errors.ts";
import { createLogger, type Logger } from "./log.ts";

/** The config of this process from `Deno.env`; exits with status 2 when invalid. */
export function configFromEnv(mode: Mode): { config: Config; log: Logger } {
  try {
    const { config, warnings } = loadConfig(Deno.env.toObject(), mode);
    const log = createLogger({
      level: config.logLevel,
      // Router lines name other nodes in `nodeId`: the replica is `routerId`.
      fields: mode === "router"
        ? { routerId: config.nodeId }
        : { nodeId: config.nodeId },
    });
    for (const warning of warnings) {
      log.warn("configuration warning", { warning });
    }
    return { config, log };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger().error("invalid configuration", {
      variable: error.variable,
      message: error.message,
    });
    Deno.exit(2);
  }
}

/**
 * Runs `shutdown` on the first SIGINT or SIGTERM and exits 0 when it is done
 * (1 if it fails); a second signal exits at once with 130.
 */
export function exitOnSignals(
  shutdown: () => Promise<void>,
  log: Logger,
): void {
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) {
      log.warn("second signal: exiting at once");
      Deno.exit(130);
    }
    log.info("shutting down");
    shutdown().then(() => Deno.exit(0), (error) => {
      log.error("shutdown failed", { error });
      Deno.exit(1);
    });
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
}
