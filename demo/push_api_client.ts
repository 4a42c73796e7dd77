/**
 * The demo service's side of the push API (PROTOCOL.md "Push API"): what any
 * business backend does, over HTTP with its API key. Answers are checked
 * against the contract before use.
 *
 * @module
 */
import { z } from "zod";
import { UnavailableError } from "../shared/errors.ts";

const PushAnswer = z.object({
  id: z.string(),
  results: z.array(
    z.object({ user: z.string(), seq: z.int().nullable(), devices: z.int() }),
  ),
});
/** Answer of `POST /v1/push`. */
export type PushAnswer = z.infer<typeof PushAnswer>;

const PresenceAnswer = z.object({
  user: z.string(),
  online: z.boolean(),
  devices: z.array(z.object({
    connId: z.string(),
    nodeId: z.string(),
    device: z.string().nullable(),
    connectedAt: z.number(),
  })),
});
/** Answer of `GET /v1/users/:user/presence`. */
export type PresenceAnswer = z.infer<typeof PresenceAnswer>;

/** Options of {@link PushApiClient}. */
export type PushApiClientOptions = {
  /** Base URL of a router (or of the embedded process). */
  url: string;
  apiKey: string;
  /** How requests reach it; the embedded process passes its own app's fetch. @default globalThis.fetch */
  fetch?: (request: Request) => Promise<Response>;
  /** Milliseconds before a call gives up. @default 5000 */
  timeoutMs?: number;
};

/** Calls the push API with an API key. */
export class PushApiClient {
  readonly #url: string;
  readonly #apiKey: string;
  readonly #fetch: (request: Request) => Promise<Response>;
  readonly #timeoutMs: number;

  constructor(options: PushApiClientOptions) {
    this.#url = options.url.replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch ?? ((request) => fetch(request));
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  /**
   * `POST /v1/push` to one user. The same `id` again is answered from the
   * router's idempotency record, so a retry never delivers twice.
   *
   * @throws {UnavailableError} when the router cannot be reached or refuses.
   */
  async push(user: string, id: string, data: unknown): Promise<PushAnswer> {
    const body = JSON.stringify({ users: [user], id, data });
    return await this.#call(PushAnswer, "POST", "/v1/push", body);
  }

  /**
   * `GET /v1/users/:user/presence`.
   *
   * @throws {UnavailableError} when the router cannot be reached or refuses.
   */
  async presence(user: string): Promise<PresenceAnswer> {
    const path = `/v1/users/${encodeURIComponent(user)}/presence`;
    return await this.#call(PresenceAnswer, "GET", path);
  }

  async #call<T>(
    schema: z.ZodType<T>,
    method: string,
    path: string,
    body?: string,
  ): Promise<T> {
    const headers = new Headers({ authorization: `Bearer ${this.#apiKey}` });
    if (body !== undefined) headers.set("content-type", "application/json");
    let response: Response;
    try {
      response = await this.#fetch(
        new Request(this.#url + path, {
          method,
          headers,
          body,
          signal: AbortSignal.timeout(this.#timeoutMs),
        }),
      );
    } catch (error) {
      throw new UnavailableError(
        `the push API is unreachable (${method} ${path})`,
        {
          cause: error,
        },
      );
    }
    const text = await response.text();
    if (!response.ok) {
      // The router's error body names the problem; it never holds the key.
      throw new UnavailableError(
        `the push API answered ${response.status} to ${method} ${path}: ${
          text.slice(0, 200)
        }`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new UnavailableError(`the push API answered non-JSON to ${path}`, {
        cause: error,
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new UnavailableError(
        `the push API's answer to ${method} ${path} is not what the contract says`,
        { cause: parsed.error },
      );
    }
    return parsed.data;
  }
}
