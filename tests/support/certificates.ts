import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** Key and certificate files written by the helpers below. */
export interface CertificateFiles {
  keyFile: string;
  certFile: string;
}

/** Runs Debian's openssl quietly: tests make their own keys and certificates, nothing is downloaded. */
function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: "ignore" });
}

/** A self-signed RSA certificate for `commonName`, valid one day, as `<dir>/<name>.key` and `<dir>/<name>.pem`. */
export function selfSignedCertificate(dir: string, name: string, commonName: string): CertificateFiles {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.pem`);
  const fixed = "req -x509 -newkey rsa:2048 -nodes -days 1".split(" ");
  openssl([...fixed, "-keyout", keyFile, "-out", certFile, "-subj", `/CN=${commonName}`]);
  return { keyFile, certFile };
}

/** A certificate signed by `ca` for the given subjectAltName (e.g. "IP:127.0.0.1", "DNS:mx.example"). */
export function signedCertificate(
  dir: string,
  name: string,
  subjectAltName: string,
  ca: CertificateFiles,
): CertificateFiles {
  const file = (ext: string) => path.join(dir, `${name}.${ext}`);
  const request = "req -newkey rsa:2048 -nodes".split(" ");
  openssl([...request, "-keyout", file("key"), "-out", file("csr"), "-subj", `/CN=${name}`]);
  fs.writeFileSync(file("ext"), `subjectAltName=${subjectAltName}\n`);
  const sign = "x509 -req -CAcreateserial -days 1".split(" ");
  openssl([
    ...sign,
    "-in",
    file("csr"),
    "-CA",
    ca.certFile,
    "-CAkey",
    ca.keyFile,
    "-out",
    file("pem"),
    "-extfile",
    file("ext"),
  ]);
  return { keyFile: file("key"), certFile: file("pem") };
}
