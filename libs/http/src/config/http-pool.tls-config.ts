import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';

import {
  booleanField,
  type PoolConfigContext,
  type PoolFields,
  readTextFile,
  textField,
} from '@nest-pools/core';

/** The TLS keys that name files or the key's passphrase (the ones these rules report on). */
type TlsKey = 'tlsCaFile' | 'tlsCertFile' | 'tlsKeyFile' | 'tlsKeyPassphrase';

const READABLE_PEM = 'the path of a readable PEM file';

/** A path to a PEM file; the rules of {@link checkHttpPoolTls} read it and check its content. */
function pemFileField(env: string, description: string) {
  const allowed = `${READABLE_PEM} (at most 4096 characters)`;
  return {
    ...textField({ env, default: undefined, maxLength: 4096, description }),
    allowed,
    allowedOption: allowed,
  };
}

/**
 * TLS trust, client certificate and HTTP/2 of an HTTP pool, in reference order. Spread into
 * `HTTP_POOL_FIELDS`; the rules that check them together are {@link checkHttpPoolTls}. Env
 * variables apply to every client of the application; a named client sets its own in options.
 */
export const HTTP_POOL_TLS_FIELDS = {
  /**
   * PEM file of the CA (or bundle) that signed the upstreams' certificates, for HTTPS upstreams
   * whose CA is not in Node's trust store (a private CA). Added to Node's bundled CAs, not
   * instead of them; verification stays on. Env `HTTP_TLS_CA_FILE`.
   * @default undefined (Node's bundled CAs only)
   */
  tlsCaFile: pemFileField(
    'HTTP_TLS_CA_FILE',
    "PEM file of the CA that signed the upstreams' certificates, trusted besides Node's CAs.",
  ),
  /**
   * PEM file of the client certificate presented to upstreams that ask for one (mutual TLS);
   * needs `tlsKeyFile`. Env `HTTP_TLS_CERT_FILE`.
   * @default undefined (no client certificate)
   */
  tlsCertFile: pemFileField(
    'HTTP_TLS_CERT_FILE',
    'PEM file of the client certificate for mutual TLS; needs HTTP_TLS_KEY_FILE.',
  ),
  /**
   * PEM file of the client certificate's private key (mutual TLS); needs `tlsCertFile`. Env
   * `HTTP_TLS_KEY_FILE`.
   * @default undefined
   */
  tlsKeyFile: pemFileField(
    'HTTP_TLS_KEY_FILE',
    "PEM file of the client certificate's private key; needs HTTP_TLS_CERT_FILE.",
  ),
  /**
   * Passphrase of an encrypted `tlsKeyFile` (secret: always shown as `***`). Env
   * `HTTP_TLS_KEY_PASSPHRASE`.
   * @default undefined
   */
  tlsKeyPassphrase: {
    ...textField({
      env: 'HTTP_TLS_KEY_PASSPHRASE',
      default: undefined,
      maxLength: 1024,
      description: 'Passphrase of an encrypted HTTP_TLS_KEY_FILE.',
    }),
    secret: true,
  },
  /**
   * Verify upstream certificates (chain to a trusted CA, host name). `false` accepts any
   * certificate and logs a warning at startup naming the client; refused from env in
   * production, where only one named client's option may turn it off. Node's
   * `NODE_TLS_REJECT_UNAUTHORIZED` does not apply to these clients. Env
   * `HTTP_TLS_REJECT_UNAUTHORIZED`.
   * @default true
   */
  tlsRejectUnauthorized: booleanField({
    env: 'HTTP_TLS_REJECT_UNAUTHORIZED',
    default: true,
    description:
      'Verify upstream certificates; false accepts any (warned at startup; env refused in production).',
  }),
  /**
   * Offer HTTP/2 in ALPN (undici `allowH2`; transport `undici` only). An origin that accepts it
   * gets one connection, and `limitPerHost` becomes the most concurrent streams on it. Env
   * `HTTP_ALLOW_H2`.
   * @default false
   */
  allowH2: booleanField({
    env: 'HTTP_ALLOW_H2',
    default: false,
    description:
      'Offer HTTP/2 (undici only): one connection per origin, limitPerHost = concurrent streams.',
  }),
} satisfies PoolFields;

/** How a missing companion key is named: as an option when its partner was an option. */
function missingIssue(ctx: PoolConfigContext, key: TlsKey, partner: TlsKey, allowed: string): void {
  ctx.issues.push({
    variable: ctx.variable(partner).startsWith('options.')
      ? `options.${key}`
      : (HTTP_POOL_TLS_FIELDS[key].env ?? `options.${key}`),
    given: '(not set)',
    allowed,
  });
}

function readPem(ctx: PoolConfigContext, key: TlsKey): string | undefined {
  const path = ctx.values[key];
  if (typeof path !== 'string') return undefined;
  const text = readTextFile(path);
  if (text === undefined) ctx.issue(key, READABLE_PEM);
  return text;
}

function parseCertificate(pem: string): X509Certificate | undefined {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return undefined;
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function openSslMessage(error: unknown): string {
  const { message } = (error ?? {}) as { message?: unknown };
  return (typeof message === 'string' ? message : String(error)).replace(/^error:[0-9A-F]+:/, '');
}

/**
 * Whether an encrypted PEM key is whole, so that failing to decrypt it is the passphrase's fault.
 * OpenSSL cannot tell: about one wrong passphrase in 256 leaves valid padding, and the decrypted
 * bytes then fail to decode (`ERR_OSSL_UNSUPPORTED`), as a damaged file does. A PKCS#8 block
 * (`ENCRYPTED PRIVATE KEY`) is whole when its base64 decodes to one DER sequence exactly as long
 * as the block; a legacy block (`Proc-Type: 4,ENCRYPTED`) when it has its `DEK-Info` header and
 * its base64 decodes to whole cipher blocks.
 */
function encryptedKeyIsWhole(pem: string): boolean {
  const block = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(pem);
  if (!block) return false;
  const [, label, content] = block as unknown as [string, string, string];
  const headers = /^((?:[A-Za-z-]+:.*\r?\n)*)\r?\n?/.exec(content)?.[1] ?? '';
  const base64 = content.slice(headers.length).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) return false;
  const der = Buffer.from(base64, 'base64');
  if (label === 'ENCRYPTED PRIVATE KEY') {
    if (der.length < 2 || der[0] !== 0x30) return false;
    const first = der[1] as number;
    if (first < 0x80) return 2 + first === der.length;
    const width = first & 0x7f;
    if (width === 0 || width > 4 || der.length < 2 + width) return false;
    let length = 0;
    for (let i = 0; i < width; i++) length = length * 256 + (der[2 + i] as number);
    return 2 + width + length === der.length;
  }
  return /^DEK-Info:/m.test(headers) && der.length > 0 && der.length % 8 === 0;
}

/** The client key, decrypted; records the issue (key file or passphrase) when it cannot be. */
function readClientKey(ctx: PoolConfigContext, pem: string): KeyObject | undefined {
  const given = ctx.values.tlsKeyPassphrase;
  const passphrase = typeof given === 'string' ? given : undefined;
  const encrypted = /ENCRYPTED/.test(pem);
  if (encrypted && passphrase === undefined) {
    missingIssue(
      ctx,
      'tlsKeyPassphrase',
      'tlsKeyFile',
      `the passphrase of the encrypted key in ${ctx.variable('tlsKeyFile')}`,
    );
    return undefined;
  }
  try {
    return createPrivateKey({ key: pem, ...(encrypted ? { passphrase } : {}) });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const undecryptable = code === 'ERR_OSSL_BAD_DECRYPT' || code === 'ERR_OSSL_UNSUPPORTED';
    if (encrypted && undecryptable && encryptedKeyIsWhole(pem)) {
      ctx.issue(
        'tlsKeyPassphrase',
        `the passphrase of the key in ${ctx.variable('tlsKeyFile')} (this one does not decrypt it)`,
      );
    } else {
      ctx.issue('tlsKeyFile', `a PEM private key file (${openSslMessage(error)})`);
    }
    return undefined;
  }
}

function checkClientCertificate(ctx: PoolConfigContext): void {
  const hasCert = typeof ctx.values.tlsCertFile === 'string';
  const hasKey = typeof ctx.values.tlsKeyFile === 'string';
  if (hasCert && !hasKey && ctx.isValid('tlsKeyFile')) {
    missingIssue(
      ctx,
      'tlsKeyFile',
      'tlsCertFile',
      `the client certificate's private key file (required because ${ctx.variable('tlsCertFile')} is set)`,
    );
  }
  if (hasKey && !hasCert && ctx.isValid('tlsCertFile')) {
    missingIssue(
      ctx,
      'tlsCertFile',
      'tlsKeyFile',
      `the client certificate file (required because ${ctx.variable('tlsKeyFile')} is set)`,
    );
  }
  if (typeof ctx.values.tlsKeyPassphrase === 'string' && !hasKey) {
    ctx.issue('tlsKeyPassphrase', `only with ${ctx.variable('tlsKeyFile')} (it decrypts that key)`);
  }
  const certPem = readPem(ctx, 'tlsCertFile');
  const keyPem = readPem(ctx, 'tlsKeyFile');
  let cert: X509Certificate | undefined;
  if (certPem !== undefined) {
    cert = parseCertificate(certPem);
    if (!cert) ctx.issue('tlsCertFile', 'a PEM certificate file (-----BEGIN CERTIFICATE-----)');
  }
  const key = keyPem === undefined ? undefined : readClientKey(ctx, keyPem);
  if (cert && key && !cert.checkPrivateKey(key)) {
    ctx.issue(
      'tlsKeyFile',
      `the private key of the certificate in ${ctx.variable('tlsCertFile')} (this key belongs to another certificate)`,
    );
  }
}

/**
 * Cross-field rules of the TLS and HTTP/2 keys, run by the HTTP pool's `check`: every file
 * readable and holding what it should (startup fails naming the variable), a client certificate
 * with its key (decrypted by the passphrase when encrypted), verification turned off from env
 * refused in production, and HTTP/2 only on the undici transport.
 */
export function checkHttpPoolTls(ctx: PoolConfigContext): void {
  const caPem = readPem(ctx, 'tlsCaFile');
  if (caPem !== undefined && !parseCertificate(caPem)) {
    ctx.issue(
      'tlsCaFile',
      'a PEM file of CA certificates (-----BEGIN CERTIFICATE-----); this file holds none',
    );
  }
  checkClientCertificate(ctx);
  if (
    ctx.values.tlsRejectUnauthorized === false &&
    ctx.appEnv === 'production' &&
    !ctx.variable('tlsRejectUnauthorized').startsWith('options.')
  ) {
    ctx.issue(
      'tlsRejectUnauthorized',
      "true in production, where an env variable would turn verification off for every client: trust the upstream's CA with HTTP_TLS_CA_FILE (option tlsCaFile), or turn it off for one named client with its option tlsRejectUnauthorized: false",
    );
  }
  if (ctx.values.allowH2 === true && ctx.values.transport === 'http') {
    ctx.issue(
      'allowH2',
      `false with ${ctx.variable('transport')}=http: Node's https agents speak HTTP/1.1 only; HTTP/2 needs transport undici`,
    );
  }
}
