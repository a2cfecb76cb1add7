/**
 * Codes of a server certificate that does not chain to a CA the client trusts — the usual sign
 * of a private CA that `tlsCaFile` should name.
 */
const UNTRUSTED_CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** TLS alerts of an upstream that asked for a client certificate and got none it accepts. */
const CLIENT_CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
]);

/**
 * What to do about a TLS failure, by its Node/OpenSSL error code, in the words of the client's
 * options; `undefined` for anything else. Transports append it to the error message.
 */
export function tlsFailureHint(code: unknown): string | undefined {
  if (typeof code !== 'string') return undefined;
  if (UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    return (
      "the upstream's certificate does not chain to a CA this client trusts: set HTTP_TLS_CA_FILE " +
      '(option tlsCaFile) to the PEM file of the CA that signed it'
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return 'the certificate does not name the host of the URL: call the upstream by a name or IP address its certificate lists';
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return "the upstream's certificate is outside its validity period: renew it on the upstream (and check this host's clock)";
  }
  if (CLIENT_CERTIFICATE_CODES.has(code)) {
    return (
      'the upstream refused the client certificate (or got none): set HTTP_TLS_CERT_FILE and ' +
      'HTTP_TLS_KEY_FILE (options tlsCertFile, tlsKeyFile) to a certificate its CA signed'
    );
  }
  return undefined;
}

/** `message` with the hint for `code` appended, or unchanged when there is none. */
export function withTlsHint(message: string, code: unknown): string {
  const hint = tlsFailureHint(code);
  return hint === undefined || message.includes(hint) ? message : `${message} (${hint})`;
}

/** The warning a client with certificate verification turned off logs at startup. */
export function insecureTlsWarning(name: string): string {
  return (
    `TLS certificate verification is OFF for HTTP client "${name}" ` +
    '(HTTP_TLS_REJECT_UNAUTHORIZED=false / tlsRejectUnauthorized: false): it accepts any ' +
    'certificate, so anyone on the network path can read and change its traffic. Trust the ' +
    "upstream's CA with HTTP_TLS_CA_FILE (option tlsCaFile) instead."
  );
}

/** The warning of an HTTP/2 client (`allowH2`) whose upstream chose HTTP/1.1 in ALPN. */
export function http1FallbackWarning(name: string, origin: string): string {
  return (
    `${origin} answered HTTP/1.1 to HTTP client "${name}", which offers HTTP/2 (allowH2): ` +
    'it keeps one connection per origin, so requests to this upstream are pipelined on it and ' +
    'wait for each other. Turn allowH2 off for this client, or give this upstream a client ' +
    'of its own without it.'
  );
}
