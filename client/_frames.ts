/**
 * Reading one server frame: welcome, message (deduplicated), reset, gap,
 * error and pong. Unknown types are newer frames and are ignored.
 *
 * @module
 */
import type {
  MessageFrame,
  ServerFrame,
  WelcomeFrame,
} from "../shared/protocol.ts";
import type { SeqTracker } from "./_seq_tracker.ts";
import type { WsgwClientEventMap, WsgwMessage, WsgwWelcome } from "./_types.ts";

/** Where the frames go. */
export type FrameHandlers = {
  emit<K extends "reset" | "gap" | "error">(
    type: K,
    detail: WsgwClientEventMap[K]["detail"],
  ): void;
  welcome(welcome: WsgwWelcome): void;
  message(message: WsgwMessage): void;
};

/**
 * Parses `data` and hands it to `handlers`; bad frames become `error`
 * events. A welcome counts only while `welcomeDue` (none came yet).
 */
export function readFrame(
  data: unknown,
  seqs: SeqTracker,
  welcomeDue: boolean,
  handlers: FrameHandlers,
): void {
  let frame: ServerFrame;
  try {
    if (typeof data !== "string") throw new TypeError("binary frame");
    frame = JSON.parse(data);
    if (typeof frame?.type !== "string") throw new TypeError("no type");
  } catch (error) {
    const message = `unreadable frame: ${
      error instanceof Error ? error.message : String(error)
    }`;
    return handlers.emit("error", { code: "bad_frame", message, cause: error });
  }
  switch (frame.type) {
    case "welcome":
      if (!welcomeDue) return; // not asked for: ignored, the state stays
      return welcome(frame, seqs, handlers);
    case "message":
      return message(frame, seqs, handlers);
    case "reset": {
      if (typeof frame.epoch !== "string" || !frame.epoch) break;
      const previousEpoch = seqs.epoch;
      seqs.reset(frame.epoch);
      return handlers.emit("reset", { epoch: frame.epoch, previousEpoch });
    }
    case "gap": {
      const { from, to } = frame;
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) break;
      seqs.gap(to);
      return handlers.emit("gap", { from, to });
    }
    case "error": {
      // token_* answers a `token` frame: the refresh did not take.
      const refresh = frame.code.startsWith("token_");
      return handlers.emit("error", {
        code: refresh ? "token_refresh" : "server",
        message: frame.message,
        serverCode: frame.code,
      });
    }
    default:
      // pong only proved liveness; unknown types are newer frames
      return;
  }
  handlers.emit("error", {
    code: "bad_frame",
    message: `malformed ${frame.type} frame`,
  });
}

function welcome(
  frame: WelcomeFrame,
  seqs: SeqTracker,
  handlers: FrameHandlers,
): void {
  const { connId, nodeId, userId, seq, epoch, recovered } = frame;
  seqs.welcome(seq, epoch, recovered);
  handlers.welcome({ connId, nodeId, userId, seq, epoch, recovered });
}

function message(
  frame: MessageFrame,
  seqs: SeqTracker,
  handlers: FrameHandlers,
): void {
  const { seq, id, data, ts, broadcast } = frame;
  if (!seqs.accept(seq, id)) return;
  const message: WsgwMessage = seq === undefined
    ? { id, data, ts }
    : { seq, id, data, ts };
  if (broadcast) message.broadcast = true;
  handlers.message(message);
}
