import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

export interface CertificatePair {
  /** PEM; for a CA-issued certificate, the leaf followed by its chain. */
  cert: string;
  /** PKCS#8 PEM. */
  key: string;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/**
 * A self-signed ECDSA P-256 certificate for `names` (DNS names or IP addresses; the first is the subject),
 * for local use where no CA can reach the manager. node's crypto makes keys but not certificates, hence x509.
 */
export async function createSelfSignedCertificate(
  names: string[],
  opts: { days?: number; now?: Date } = {},
): Promise<CertificatePair> {
  if (names.length === 0) throw new Error('a certificate needs at least one name');
  const crypto = webcrypto;
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const notBefore = new Date((opts.now ?? new Date()).getTime() - 60_000); // tolerate a peer's clock a little behind
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a positive INTEGER (RFC 5280 4.1.2.2)
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: [{ CN: [names[0]!] }],
      notBefore,
      notAfter: new Date(notBefore.getTime() + (opts.days ?? 365) * DAY_MS),
      signingAlgorithm: ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: isIP(n) ? 'ip' : 'dns', value: n }))),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { cert: cert.toString('pem') + '\n', key: toPem('PRIVATE KEY', pkcs8) };
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
