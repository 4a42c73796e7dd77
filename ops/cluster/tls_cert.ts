/**
 * A throwaway certificate authority and a server certificate for
 * 127.0.0.1/localhost, made with openssl for `deno task cluster --lb --tls`:
 * haproxy terminates TLS with the server one, clients trust the CA
 * (`DENO_CERT=<ca>`, or `caCerts` of `Deno.createHttpClient`). A CA apart from
 * the server certificate, because TLS libraries refuse a CA certificate
 * presented as a server's. Valid two days; it lives in the cluster's dir.
 *
 * @module
 */

/** Paths of the files {@link makeThrowawayCert} wrote. */
export type ThrowawayCert = {
  /** The CA certificate (PEM) clients trust. */
  ca: string;
  /** Server certificate then its key (PEM), as haproxy's `crt` wants. */
  pem: string;
};

async function openssl(args: string[], cwd: string): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args,
    cwd,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `openssl ${args[0]} failed: ${new TextDecoder().decode(stderr).trim()}`,
    );
  }
}

/** Makes a CA and a server certificate for 127.0.0.1 and localhost in `dir`. */
export async function makeThrowawayCert(dir: string): Promise<ThrowawayCert> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=wsgw throwaway CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  ], dir);
  await openssl([
    "req",
    ...ec,
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ].join("\n") + "\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "server.ext",
    "-out",
    "server.crt",
  ], dir);
  const pem = `${dir}/server.pem`;
  await Deno.writeTextFile(
    pem,
    await Deno.readTextFile(`${dir}/server.crt`) +
      await Deno.readTextFile(`${dir}/server.key`),
    { mode: 0o600 },
  );
  // Only the certificates stay: nothing else needs the keys.
  for (const file of ["ca.key", "server.key", "server.csr", "server.ext"]) {
    await Deno.remove(`${dir}/${file}`);
  }
  return { ca: `${dir}/ca.pem`, pem };
}
