/**
 * A check of the `ca` TLS option, which Node's createSecureContext does not make: it skips what is
 * no PEM certificate without a word, so a CA given wrong left the system's CAs unused and every call
 * failed `unavailable` ("self-signed certificate"), an invitation to retry a mistake.
 */
import { X509Certificate } from 'node:crypto';
import type { ConnectionOptions as TlsOptions } from 'node:tls';

/** What OpenSSL's PEM reader takes as a certificate, as Node's `ca` does. */
const PEM_CERTIFICATE = /-----BEGIN (TRUSTED |X509 )?CERTIFICATE-----[\s\S]*?-----END \1?CERTIFICATE-----/g;

/** Throws, naming the entry, unless each `ca` entry holds PEM certificates only, each of which parses. */
export function checkCa(ca: TlsOptions['ca']): void {
  if (ca === undefined) return;
  for (const [i, entry] of (Array.isArray(ca) ? ca : [ca]).entries()) {
    const text = typeof entry === 'string' ? entry : Buffer.from(entry).toString('latin1');
    const blocks = text.match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) throw new Error(`ca entry ${i} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    for (const block of blocks) {
      // X509Certificate reads plain CERTIFICATE blocks only; OpenSSL's own reader checks the others.
      if (!block.startsWith('-----BEGIN CERTIFICATE-----')) continue;
      try {
        new X509Certificate(block);
      } catch (error) {
        throw new Error(`ca entry ${i} holds a certificate that does not parse: ${(error as Error).message}`);
      }
    }
  }
}
