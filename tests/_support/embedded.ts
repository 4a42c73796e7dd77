/**
 * Starts the embedded process for a test on a free port with test secrets,
 * and gives the test a push-API caller and signed client URLs.
 *
 * @module
 */
import { loadConfig } from "../../shared/config.ts";
import { silentLogger } from "../../shared/log.ts";
import { signToken } from "../../shared/token.ts";
import { type Embedded, startEmbedded } from "../../gateway/embedded.ts";

export const API_KEY = "test-api-key";
export const JWT_SECRET = "test-jwt-secret";

/** A started embedded process plus helpers bound to it. */
export type TestGateway = Embedded & {
  /** `ws://…/ws?token=…` for `user`, with optional resume parameters. */
  wsUrl(
    user: string,
    options?: { device?: string; since?: number; epoch?: string },
  ): Promise<string>;
  /** Calls the push API with the test key (or `key`); returns status and JSON body. */
  api(
    method: string,
    path: string,
    body?: unknown,
    key?: string | null,
    // deno-lint-ignore no-explicit-any
  ): Promise<{ status: number; body: any }>;
};

/** Starts an embedded gateway; `env` overrides the test defaults. */
export async function startTestGateway(
  env: Record<string, string> = {},
): Promise<TestGateway> {
  const { config } = loadConfig({
    PORT: "0",
    WSGW_API_KEYS: API_KEY,
    WSGW_JWT_SECRET: JWT_SECRET,
    ...env,
  }, "embedded");
  const embedded = await startEmbedded(config, silentLogger);
  const base = embedded.url;
  return {
    ...embedded,
    async wsUrl(user, options = {}) {
      const token = await signToken(JWT_SECRET, {
        sub: user,
        device: options.device,
      });
      const url = new URL("/ws", base.replace("http", "ws"));
      url.searchParams.set("token", token);
      if (options.since !== undefined) {
        url.searchParams.set("since", String(options.since));
      }
      if (options.epoch !== undefined) {
        url.searchParams.set("epoch", options.epoch);
      }
      return url.href;
    },
    async api(method, path, body, key = API_KEY) {
      const headers: Record<string, string> = {};
      if (key !== null) headers.authorization = `Bearer ${key}`;
      if (body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(base + path, {
        method,
        headers,
        body: body === undefined
          ? undefined
          : typeof body === "string"
          ? body
          : JSON.stringify(body),
      });
      const text = await response.text();
      let json: unknown = text;
      try {
        json = JSON.parse(text);
      } catch {
        // Not JSON (e.g. /metrics): the test gets the text.
      }
      return { status: response.status, body: json };
    },
  };
}
