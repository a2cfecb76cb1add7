import { PoolError, redactUrl } from '@nest-pools/core';

/**
 * Thrown at startup when the connection string turns TLS certificate or host name verification
 * off (`tlsInsecure`, `tlsAllowInvalidCertificates`, `tlsAllowInvalidHostnames`): the pools always
 * verify the server they talk to.
 */
export class MongoTlsVerificationError extends PoolError {
  constructor(opts: { poolName: string; url: string; parameters: string[] }) {
    super(
      `MongoDB pool "${opts.poolName}": ${redactUrl(opts.url)} disables TLS certificate ` +
        `verification (${opts.parameters.join(', ')}). Remove these parameters; for a private ` +
        'certificate authority pass tlsCAFile=<path> in the URL instead.',
      { poolName: opts.poolName, context: { parameters: opts.parameters } },
    );
  }
}
