/**
 * Seals secrets with the server key (AES-256-GCM in src/manager/crypto/seal.ts). Taken as a parameter so TLS
 * code never sees the key itself, and tests can bring their own.
 */
export interface Sealer {
  seal(plain: Buffer | string): string;
  open(sealed: string): Buffer;
}
