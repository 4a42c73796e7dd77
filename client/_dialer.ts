/**
 * One connection at a time, from the token to the close: fetch the token,
 * open the socket, wait (bounded) for the welcome, read frames, keep the
 * socket alive, refresh the token on it, and on a failure before the
 * welcome find out (by a CORS probe) whether it was a refusal. What to do
 * next (retry, stop) is the client's: the dialer reports through hooks.
 *
 * @module
 */
import { connectUrl, tokenProtocols } from "./_connect_url.ts";
import { classifyFailure, statusFromErrorMessage } from "./_failure.ts";
import { Keepalive } from "./_keepalive.ts";
import type { SeqTracker } from "./_seq_tracker.ts";
import type { Settings } from "./_settings.ts";
import { WsgwStopError } from "./_errors.ts";
import {
  messageOf,
  refusedError,
  type Stop,
  terminalClose,
  tokenError,
  tokenStop,
  unauthorizedStop,
} from "./_outcomes.ts";
import { PendingSet } from "./_pending_set.ts";
import { TokenRefresh } from "./_token_refresh.ts";
import { fetchToken } from "./_token_source.ts";
import type {
  WsgwClientEventMap,
  WsgwMessage,
  WsgwTokenContext,
  WsgwWelcome,
} from "./_types.ts";
import { readFrame } from "./_frames.ts";

/** IANA-registered close code "Timeout", sent when dropping a dead socket. */
const CLOSE_TIMEOUT = 3008;

/** What the dialer reports to the client. */
export type DialerHooks<T> = {
  emit<K extends keyof WsgwClientEventMap<T>>(
    type: K,
    detail: WsgwClientEventMap<T>[K]["detail"],
  ): void;
  welcomed(welcome: WsgwWelcome, wasRecovering: boolean): void;
  /** The attempt or connection is over: retry, waiting at least `retryAfter` ms. */
  lost(retryAfter?: number): void;
  /** Stop for good. */
  stop(stop: Stop): void;
};

/** Dials and runs one connection at a time for a client. */
export class Dialer<T> {
  #url: URL;
  #settings: Settings;
  #seqs: SeqTracker;
  #hooks: DialerHooks<T>;
  #keepalive: Keepalive;
  #socket: WebSocket | undefined;
  #welcomed = false;
  /** Bumped by every dial and cancel: stale async steps see it and stop. */
  #generation = 0;
  #authFailures = 0;
  #nextReason: WsgwTokenContext["reason"] = "connect";
  /** Aborts the token call and probe in flight. */
  #abort: AbortController | undefined;
  #handshakeTimer: unknown;
  #refresh: TokenRefresh;
  /** Sockets not yet closed and probes in flight, awaited by settled(). */
  #pending: PendingSet;

  constructor(
    url: URL,
    settings: Settings,
    seqs: SeqTracker,
    hooks: DialerHooks<T>,
  ) {
    this.#url = url;
    this.#settings = settings;
    this.#seqs = seqs;
    this.#hooks = hooks;
    this.#pending = new PendingSet(settings.timers);
    this.#refresh = new TokenRefresh(settings, {
      socket: () => this.connected ? this.#socket : undefined,
      signal: () => this.#abort?.signal ?? new AbortController().signal,
      failed: (error) => {
        if (error instanceof WsgwStopError) return this.#tokenFailed(error);
        this.#hooks.emit("error", {
          code: "token_refresh",
          message: `the token refresh failed: ${messageOf(error)}`,
          cause: error,
        });
      },
    });
    const { timers, pingInterval, pongTimeout } = settings;
    this.#keepalive = new Keepalive(timers, pingInterval, pongTimeout, () => {
      if (this.#socket?.readyState === 1) this.#socket.send('{"type":"ping"}');
    }, () => {
      // A dead peer may never finish the close handshake: do not wait for it.
      this.drop(CLOSE_TIMEOUT, "ping timeout");
      this.#hooks.lost();
    });
  }

  /** True while a welcomed socket is up. */
  get connected(): boolean {
    return this.#socket !== undefined && this.#welcomed;
  }

  resetAuth(): void {
    this.#authFailures = 0;
    this.#nextReason = "connect";
  }

  /** Pings the live socket now (after a sleep or a network change). */
  checkNow(): void {
    if (this.connected) this.#keepalive.checkNow();
  }

  /** Starts an attempt: token, socket, welcome (each bounded). */
  async dial(): Promise<void> {
    this.cancel();
    const generation = this.#generation;
    const abort = this.#abort = new AbortController();
    const reason = this.#nextReason;
    this.#nextReason = "connect";
    let token: string;
    try {
      // A static token dials synchronously (no await): one turn less.
      const { token: source } = this.#settings;
      token = typeof source === "string"
        ? source
        : await fetchToken(this.#settings, reason, abort.signal);
    } catch (error) {
      if (generation !== this.#generation) return;
      return this.#tokenFailed(error);
    }
    if (generation !== this.#generation) return;
    const query = this.#settings.tokenTransport === "query";
    const wasRecovering = this.#seqs.resuming;
    const url = connectUrl(
      this.#url,
      this.#seqs.resume(),
      query ? token : undefined,
    );
    let socket: WebSocket;
    try {
      socket = new this.#settings.WebSocket(
        url,
        query ? undefined : tokenProtocols(token),
      );
    } catch (error) {
      const message = `the WebSocket could not be created: ${messageOf(error)}`;
      this.#hooks.emit("error", { code: "socket", message, cause: error });
      return this.#hooks.lost();
    }
    this.#refresh.use(token);
    this.#open(socket, url, query ? undefined : token, wasRecovering);
  }

  #tokenFailed(error: unknown): void {
    if (error instanceof WsgwStopError) {
      // Also from a refresh: the live socket goes with the client.
      this.drop(1000, "token stopped", false);
      return this.#hooks.stop(tokenStop(error));
    }
    this.#hooks.emit("error", tokenError(error));
    this.#hooks.lost();
  }

  #open(
    socket: WebSocket,
    url: string,
    probeToken: string | undefined,
    wasRecovering: boolean,
  ): void {
    this.#socket = socket;
    this.#welcomed = false;
    let opened = false;
    let status: number | undefined;
    const { timers, handshakeTimeout } = this.#settings;
    this.#handshakeTimer = timers.setTimeout(() => {
      this.#handshakeTimer = undefined;
      const message = `no welcome within ${handshakeTimeout} ms`;
      this.#hooks.emit("error", { code: "handshake_timeout", message });
      this.drop(CLOSE_TIMEOUT, "handshake timeout");
      this.#hooks.lost();
    }, handshakeTimeout);
    const ended = (code: number, reason: string) => {
      if (socket !== this.#socket) return;
      const welcomed = this.#welcomed;
      this.#forget();
      this.#hooks.emit("disconnected", {
        code,
        reason,
        wasConnected: welcomed,
      });
      this.#onClose(code, reason, welcomed || opened, status, url, probeToken);
    };
    let gone = () => {};
    this.#pending.track(new Promise<void>((resolve) => gone = resolve));
    socket.onclose = (event) => {
      gone();
      ended(event.code || 1006, event.reason);
    };
    socket.onerror = (event) => {
      status ??= statusFromErrorMessage((event as ErrorEvent).message);
      // Node 20's WebSocket never sends close after a failed handshake:
      // the socket is as good as closed (browsers send close right after).
      if (!opened) {
        gone();
        ended(1006, "");
      }
    };
    socket.onopen = () => {
      opened = true;
      this.#keepalive.start();
    };
    // A connection has one welcome: a later one (a forged history entry
    // once turned its frame into one) is ignored. A pong may come first.
    let welcomed = false;
    socket.onmessage = (event) => {
      if (socket !== this.#socket) return;
      this.#keepalive.alive();
      readFrame(event.data, this.#seqs, !welcomed, {
        emit: this.#hooks.emit,
        welcome: (welcome) => {
          welcomed = true;
          timers.clearTimeout(this.#handshakeTimer);
          this.#handshakeTimer = undefined;
          this.#welcomed = true;
          this.#authFailures = 0;
          this.scheduleRefresh();
          this.#hooks.welcomed(welcome, wasRecovering);
        },
        message: (message) =>
          this.#hooks.emit("message", message as WsgwMessage<T>),
      });
    };
  }

  #onClose(
    code: number,
    reason: string,
    opened: boolean,
    status: number | undefined,
    url: string,
    probeToken: string | undefined,
  ): void {
    const terminal = terminalClose(code, reason);
    if (terminal) {
      this.#hooks.stop(terminal);
    } else if (opened) {
      this.#hooks.lost();
    } else {
      void this.#failedBeforeOpen(code, status, url, probeToken);
    }
  }

  /** Reads why an upgrade failed; only a 401 on a fresh token counts. */
  async #failedBeforeOpen(
    code: number,
    status: number | undefined,
    url: string,
    probeToken: string | undefined,
  ): Promise<void> {
    const generation = this.#generation;
    const abort = this.#abort = new AbortController();
    const verdict = await this.#pending.track(
      classifyFailure(status, url, probeToken, this.#settings, abort),
    );
    if (generation !== this.#generation) return;
    if (verdict.kind === "unauthorized") {
      if (++this.#authFailures >= this.#settings.maxAuthFailures) {
        return this.#hooks.stop(unauthorizedStop(code));
      }
      this.#nextReason = "unauthorized";
    } else if (verdict.kind === "refused") {
      this.#hooks.emit("error", refusedError(verdict.status));
    }
    this.#hooks.lost(verdict.retryAfter);
  }

  /** Plans the renewal of the live connection's token. */
  scheduleRefresh(): void {
    this.#refresh.schedule();
  }

  /** Hands `token` to the live connection (a `token` frame). */
  refreshWith(token: string): void {
    this.#refresh.send(token);
  }

  /** Abandons the attempt in flight (token call, probe) and its timers. */
  cancel(): void {
    this.#generation++;
    this.#abort?.abort();
    this.#abort = undefined;
    const { timers } = this.#settings;
    timers.clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#refresh.stop();
  }

  /**
   * Forgets the current socket (its events no longer count) and closes it;
   * with `report`, emits its `disconnected`. False when there was none.
   */
  drop(code: number, reason: string, report = true): boolean {
    const socket = this.#socket;
    const welcomed = this.#welcomed;
    this.#forget();
    if (socket === undefined) return false;
    try {
      if (socket.readyState < 2) socket.close(code, reason);
    } catch (error) {
      // Its close event still comes and settles the pending entry.
      const message = `closing the socket failed: ${messageOf(error)}`;
      this.#hooks.emit("error", { code: "socket", message, cause: error });
    }
    if (report) {
      this.#hooks.emit("disconnected", {
        code,
        reason,
        wasConnected: welcomed,
      });
    }
    return true;
  }

  #forget(): void {
    this.#socket = undefined;
    this.#welcomed = false;
    this.#keepalive.stop();
    const { timers } = this.#settings;
    timers.clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#refresh.stop();
  }

  /** Resolves when every socket has closed, or after `bound` ms. */
  settled(bound: number): Promise<void> {
    return this.#pending.settled(bound);
  }
}
