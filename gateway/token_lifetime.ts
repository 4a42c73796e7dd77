/**
 * A connection lives no longer than its token: at `exp` (plus the allowed
 * clock skew) the gateway closes it with 4004 `token expired`, unless the
 * client sent a `token` frame with a fresh token of the same user first.
 *
 * @module
 */
import { HttpError, UnauthorizedError } from "../shared/errors.ts";
import type { TokenVerifier } from "../shared/token.ts";
import type { ChannelSession } from "./channel_session.ts";

/** Longest timer delay JavaScript keeps (about 24.8 days). */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * The `exp` of a JWT that was already verified, in ms since the epoch. The
 * verifier requires `exp`, so undefined means a malformed token.
 */
export function tokenExpiresAt(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const json = new TextDecoder().decode(
      Uint8Array.from(
        atob(payload.replace(/-/g, "+").replace(/_/g, "/")),
        (c) => c.charCodeAt(0),
      ),
    );
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** The expiry timer of one connection. */
export class TokenLifetime {
  readonly #session: ChannelSession;
  readonly #skewMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(session: ChannelSession, skewSeconds: number) {
    this.#session = session;
    this.#skewMs = skewSeconds * 1000;
    session.closedSignal.addEventListener("abort", () => this.#clear(), {
      once: true,
    });
  }

  /** (Re)arms the close for a token expiring at `expiresAt` (ms). */
  expireAt(expiresAt: number): void {
    this.#clear();
    if (this.#session.closed) return;
    const delay = expiresAt + this.#skewMs - Date.now();
    if (delay <= 0) return this.#session.close("tokenExpired");
    // A token valid for longer than a timer can wait is re-armed on wake.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (Date.now() >= expiresAt + this.#skewMs) {
        this.#session.close("tokenExpired");
      } else this.expireAt(expiresAt);
    }, Math.min(delay, MAX_DELAY));
  }

  /**
   * Applies a `token` frame: a valid token of the same user moves the
   * expiry; anything else is answered with an error frame and changes
   * nothing.
   */
  async renew(token: unknown, verifier: TokenVerifier): Promise<void> {
    try {
      if (typeof token !== "string") {
        throw new UnauthorizedError(
          "token frame needs a string token",
          undefined,
          "token_invalid",
        );
      }
      const claims = await verifier.verify(token);
      const { user, device } = this.#session.info;
      if (claims.user !== user || claims.device !== device) {
        throw new UnauthorizedError(
          "the new token names another user or device",
          undefined,
          "token_mismatch",
        );
      }
      const expiresAt = tokenExpiresAt(token);
      if (expiresAt !== undefined) this.expireAt(expiresAt);
    } catch (error) {
      if (this.#session.closed) return;
      const code = error instanceof HttpError ? error.code : "token_invalid";
      const message = error instanceof HttpError
        ? error.message
        : "the token could not be verified";
      this.#session.sendFrame({
        type: "error",
        code: code.startsWith("token_") ? code : `token_${code}`,
        message,
      });
    }
  }

  #clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
