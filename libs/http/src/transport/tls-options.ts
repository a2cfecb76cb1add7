import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

import type { HttpPoolConfig } from '../config/index.js';

/**
 * TLS settings of a client's sockets, as both transports hand them to Node's `tls.connect`
 * (undici's `connect` options, the `https.Agent`'s defaults).
 */
export interface PoolTlsOptions {
  /** Trusted CAs: Node's bundled ones plus the `tlsCaFile` bundle; undefined = Node's only. */
  ca?: string[];
  /** Client certificate (PEM) for mutual TLS. */
  cert?: string;
  /** Its private key (PEM). */
  key?: string;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  /**
   * Always set, so that `NODE_TLS_REJECT_UNAUTHORIZED` never turns verification off behind the
   * client's back: only `tlsRejectUnauthorized` does.
   */
  rejectUnauthorized: boolean;
}

/** The TLS keys of a client's config. */
export type HttpPoolTlsConfig = Pick<
  HttpPoolConfig,
  'tlsCaFile' | 'tlsCertFile' | 'tlsKeyFile' | 'tlsKeyPassphrase' | 'tlsRejectUnauthorized'
>;

/**
 * Reads the client's TLS files once, at construction (the config rules already checked that they
 * are readable and hold a CA, a certificate and its key).
 */
export function readTlsOptions(config: HttpPoolTlsConfig): PoolTlsOptions {
  const tls: PoolTlsOptions = { rejectUnauthorized: config.tlsRejectUnauthorized };
  // Added to Node's trust store: `ca` alone would replace it.
  if (config.tlsCaFile !== undefined) {
    tls.ca = [...rootCertificates, readFileSync(config.tlsCaFile, 'utf8')];
  }
  if (config.tlsCertFile !== undefined && config.tlsKeyFile !== undefined) {
    tls.cert = readFileSync(config.tlsCertFile, 'utf8');
    tls.key = readFileSync(config.tlsKeyFile, 'utf8');
    if (config.tlsKeyPassphrase !== undefined) tls.passphrase = config.tlsKeyPassphrase;
  }
  return tls;
}
