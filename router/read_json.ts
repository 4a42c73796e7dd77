/**
 * Reads a JSON request body under a byte limit, whether or not the client
 * sent a content-length.
 *
 * @module
 */
import { BadRequestError, PayloadTooLargeError } from "../shared/errors.ts";

/** Options of {@link readJson}. */
export type ReadJsonOptions = {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** An empty body yields `undefined` instead of a 400. @default false */
  optional?: boolean;
};

/**
 * Parses the body of `request` as JSON.
 *
 * @throws {PayloadTooLargeError} when the body is over `maxBytes`.
 * @throws {BadRequestError} `invalid_json` when it is not UTF-8 JSON.
 */
export async function readJson(
  request: Request,
  options: ReadJsonOptions,
): Promise<unknown> {
  const text = await readText(request, options.maxBytes);
  if (text.trim() === "") {
    if (options.optional) return undefined;
    throw new BadRequestError(
      "body: a JSON body is required",
      undefined,
      "invalid_json",
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(
      "body: is not valid JSON",
      { cause: error },
      "invalid_json",
    );
  }
}

/** Stateless without `stream`: one decoder serves every request. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

async function readText(request: Request, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new PayloadTooLargeError(`body is larger than ${maxBytes} bytes`);
  // A declared length lets us refuse before reading; it is not trusted
  // further, since a chunked body has none and the count below holds anyway.
  const declared = Number(request.headers.get("content-length"));
  if (declared > maxBytes) throw tooLarge();
  if (!request.body) return "";
  // With a declared length the server already holds the body to it: read it
  // in one go (the stream reader loop below cost 7% of the push path).
  const body = request.headers.has("content-length")
    ? new Uint8Array(await request.arrayBuffer())
    : await readLimited(request.body, maxBytes, tooLarge);
  // A request built in-process (app.request) may declare a false length.
  if (body.byteLength > maxBytes) throw tooLarge();
  try {
    return utf8.decode(body);
  } catch (error) {
    throw new BadRequestError(
      "body: is not valid UTF-8",
      { cause: error },
      "invalid_json",
    );
  }
}

/** Reads a stream of unknown length, failing as soon as it passes `maxBytes`. */
async function readLimited(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {/* the stream is abandoned anyway */});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
