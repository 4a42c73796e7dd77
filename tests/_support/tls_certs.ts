/**
 * A throwaway CA with a server certificate for 127.0.0.1/localhost and
 * client certificates, made with `openssl` in a temp dir, for tests of etcd
 * and Redis over TLS. Hold it with `await using`.
 *
 * @module
 */

/** PEM file paths of one certificate and its key. */
export type CertFiles = { cert: string; key: string };

/** The CA, the server's certificate and one client certificate per name. */
export type TestCerts = AsyncDisposable & {
  readonly dir: string;
  /** The CA certificate (PEM path). */
  readonly ca: string;
  readonly server: CertFiles;
  /** A client certificate whose CN is `name` (etcd takes the CN as the user). */
  client(name: string): Promise<CertFiles>;
};

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`,
    );
  }
}

async function issue(
  dir: string,
  name: string,
  cn: string,
  extensions: string,
): Promise<CertFiles> {
  const key = `${dir}/${name}.key`;
  const cert = `${dir}/${name}.crt`;
  await openssl(
    dir,
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-subj",
    `/CN=${cn}`,
    "-out",
    `${dir}/${name}.csr`,
  );
  await Deno.writeTextFile(`${dir}/${name}.ext`, extensions);
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${dir}/${name}.csr`,
    "-CA",
    `${dir}/ca.crt`,
    "-CAkey",
    `${dir}/ca.key`,
    "-CAcreateserial",
    "-days",
    "2",
    "-sha256",
    "-extfile",
    `${dir}/${name}.ext`,
    "-out",
    cert,
  );
  return { cert, key };
}

/** Makes a CA and a server certificate (IP 127.0.0.1, DNS localhost). */
export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "wsgw-certs-" });
  await openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-subj",
    "/CN=wsgw test CA",
    "-days",
    "2",
    "-out",
    "ca.crt",
  );
  const server = await issue(
    dir,
    "server",
    "localhost",
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n",
  );
  return {
    dir,
    ca: `${dir}/ca.crt`,
    server,
    client: (name) =>
      issue(dir, `client-${name}`, name, "extendedKeyUsage=clientAuth\n"),
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}
