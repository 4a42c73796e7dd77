/**
 * A local JWKS server for token tests: serves the public halves of the keys it
 * holds, signs tokens with any of them, rotates (adds a key, drops the old
 * one) and can stop answering, to test a key server that is down.
 *
 * @module
 */
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

/** Algorithms the server makes keys for. */
export type Alg = "RS256" | "ES256" | "EdDSA";

type Key = { kid: string; alg: Alg; privateKey: CryptoKey; jwk: JWK };

/** A running JWKS server. */
export class JwksServer implements AsyncDisposable {
  readonly #keys: Key[] = [];
  #server: Deno.HttpServer | undefined;
  #port = 0;
  #next = 1;
  /** Number of JWKS requests answered. */
  fetches = 0;

  /** Starts a server holding one key of each of `algs`. */
  static async start(algs: Alg[] = ["RS256"]): Promise<JwksServer> {
    const server = new JwksServer();
    for (const alg of algs) await server.addKey(alg);
    server.#listen(0);
    return server;
  }

  /** `http://127.0.0.1:<port>/.well-known/jwks.json` */
  get url(): string {
    return `http://127.0.0.1:${this.#port}/.well-known/jwks.json`;
  }

  /** Key ids served now, oldest first. */
  get kids(): string[] {
    return this.#keys.map((k) => k.kid);
  }

  /** Adds a new key and returns its kid. */
  async addKey(alg: Alg): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(alg, {
      extractable: true,
    });
    const kid = `${alg.toLowerCase()}-${this.#next++}`;
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
    this.#keys.push({ kid, alg, privateKey, jwk });
    return kid;
  }

  /** Rotation: a new key of `alg` is served and the oldest one dropped. */
  async rotate(alg: Alg): Promise<string> {
    const kid = await this.addKey(alg);
    this.#keys.shift();
    return kid;
  }

  /** A token for `sub` signed with the key `kid` (default: the newest). */
  sign(
    sub: string,
    options: { kid?: string; noKid?: boolean; exp?: string | number } = {},
  ): Promise<string> {
    const key = options.kid === undefined
      ? this.#keys.at(-1)
      : this.#keys.find((k) => k.kid === options.kid);
    if (key === undefined) throw new Error(`no key ${options.kid}`);
    return new SignJWT({})
      .setProtectedHeader({
        alg: key.alg,
        typ: "JWT",
        ...(options.noKid ? {} : { kid: key.kid }),
      })
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime(options.exp ?? "1h")
      .sign(key.privateKey);
  }

  /** A token signed by a key this server never served (same alg and kid). */
  async forge(sub: string, kid: string): Promise<string> {
    const known = this.#keys.find((k) => k.kid === kid);
    if (known === undefined) throw new Error(`no key ${kid}`);
    const { privateKey } = await generateKeyPair(known.alg);
    return new SignJWT({})
      .setProtectedHeader({ alg: known.alg, kid })
      .setSubject(sub)
      .setExpirationTime("1h")
      .sign(privateKey);
  }

  /** Stops answering: the port is closed, so a fetch is refused. */
  async stop(): Promise<void> {
    await this.#server?.shutdown();
    this.#server = undefined;
  }

  /** Answers again on the same port. */
  resume(): void {
    this.#listen(this.#port);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #listen(port: number): void {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port, onListen: () => {} },
      () => {
        this.fetches++;
        return Response.json({ keys: this.#keys.map((k) => k.jwk) });
      },
    );
    this.#port = (this.#server.addr as Deno.NetAddr).port;
  }
}
