import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { jest } from '@jest/globals';
import { ConfigValidationError, POOL_METRICS_REGISTRY } from '@nest-pools/core';
import { getHttpPoolClientToken, getHttpPoolToken, type HttpPoolClient } from '@nest-pools/http';
import {
  type HttpTestUpstream,
  startHttpUpstream,
  type TestCertificates,
  waitFor,
} from '@nest-pools/testing';
import type { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import type { AxiosError, AxiosResponse } from 'axios';
import type { Registry } from 'prom-client';
import { firstValueFrom } from 'rxjs';

import { type HttpPoolOptions, startHttpPoolsWithEnv } from '../support/http.js';
import { useTestCertificates } from '../support/tls.js';

const TRANSPORTS = ['undici', 'http'] as const;

describe('HttpPoolModule over TLS: private CA, client certificates, verification opt-out', () => {
  const suite = useTestCertificates('http-tls');
  let certs: TestCertificates;
  let https: HttpTestUpstream;
  let mtls: HttpTestUpstream;

  beforeAll(async () => {
    certs = suite.certs;
    const tls = suite.serverTls();
    https = await startHttpUpstream({ tls });
    mtls = await startHttpUpstream({
      tls: { ...tls, ca: readFileSync(certs.ca), requestCert: true },
    });
  });

  afterAll(async () => {
    await https?.close();
    await mtls?.close();
  });

  beforeEach(() => {
    https.resetCounters();
    mtls.resetCounters();
  });

  afterEach(() => jest.restoreAllMocks());

  const build = (env: Record<string, string>, options: HttpPoolOptions = {}) =>
    startHttpPoolsWithEnv(env, options);

  async function withClient<T>(
    env: Record<string, string>,
    options: HttpPoolOptions,
    use: (http: HttpService, errors: () => Promise<Record<string, number>>) => Promise<T>,
  ): Promise<T> {
    const moduleRef = await build(env, options);
    const registry = moduleRef.get<Registry>(POOL_METRICS_REGISTRY);
    // Failed attempts of the client by error_type, retries included (one per attempt).
    const errors = async () => {
      const metric = await registry.getSingleMetric('pool_errors_total')?.get();
      return Object.fromEntries(
        (metric?.values ?? []).map((v) => [String(v.labels['error_type']), v.value]),
      );
    };
    try {
      return await use(moduleRef.get<HttpService>(getHttpPoolToken(options?.name)), errors);
    } finally {
      await moduleRef.close();
    }
  }

  const get = (http: HttpService, url: string): Promise<AxiosResponse<unknown>> =>
    firstValueFrom(http.get(url));

  async function failure(request: Promise<unknown>): Promise<AxiosError> {
    const outcome = await request.then(
      () => undefined,
      (error: unknown) => error as AxiosError,
    );
    if (!outcome) throw new Error('expected the request to fail');
    return outcome;
  }

  it.each(TRANSPORTS)(
    '%s: trusts a private CA from HTTP_TLS_CA_FILE, and pools the TLS connection',
    async (transport) => {
      await withClient({ HTTP_TLS_CA_FILE: certs.ca }, { transport }, async (http) => {
        for (let i = 0; i < 10; i++) expect((await get(http, `${https.url}/ca`)).status).toBe(200);
      });
      expect(https.totalRequests).toBe(10);
      expect(https.totalConnections).toBe(1);
      expect(https.lastRequest?.httpVersion).toBe('1.1');
    },
  );

  it.each(TRANSPORTS)(
    '%s: without the CA (or with another one) refuses the upstream, and the error says to set HTTP_TLS_CA_FILE',
    async (transport) => {
      const envs: Array<Record<string, string>> = [{}, { HTTP_TLS_CA_FILE: certs.otherCa }];
      for (const env of envs) {
        await withClient(env, { transport, retries: 2 }, async (http, errors) => {
          const error = await failure(get(http, `${https.url}/untrusted`));
          expect(error.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
          expect(error.message).toContain('unable to verify the first certificate');
          expect(error.message).toContain('set HTTP_TLS_CA_FILE (option tlsCaFile)');
          // A certificate that does not verify is final: no retry.
          expect(await errors()).toEqual({ tls: 1 });
        });
      }
      expect(https.totalRequests).toBe(0);
      expect(https.totalConnections).toBe(0);
    },
  );

  it.each(TRANSPORTS)(
    '%s: an mTLS upstream refuses the client without a certificate and serves it with one',
    async (transport) => {
      await withClient(
        { HTTP_TLS_CA_FILE: certs.ca },
        { transport, retries: 2 },
        async (http, errors) => {
          const without = await failure(get(http, `${mtls.url}/mtls`));
          // TLS 1.3: the refusal comes as an alert after the client's side of the handshake.
          expect(without.code).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
          expect(without.message).toContain('certificate required');
          expect(without.message).toContain('set HTTP_TLS_CERT_FILE and HTTP_TLS_KEY_FILE');
          expect(await errors()).toEqual({ tls: 1 });
        },
      );
      await waitFor(() => mtls.tlsClientErrors === 1, { description: 'the refused handshake' });
      expect(mtls.totalRequests).toBe(0);

      const keys: Array<Record<string, string>> = [
        { HTTP_TLS_CERT_FILE: certs.clientCert, HTTP_TLS_KEY_FILE: certs.clientKey },
        {
          HTTP_TLS_CERT_FILE: certs.clientCert,
          HTTP_TLS_KEY_FILE: certs.clientKeyEncrypted,
          HTTP_TLS_KEY_PASSPHRASE: certs.clientKeyPassphrase,
        },
      ];
      for (const clientKey of keys) {
        await withClient(
          { HTTP_TLS_CA_FILE: certs.ca, ...clientKey },
          { transport },
          async (http) => {
            expect((await get(http, `${mtls.url}/mtls`)).status).toBe(200);
          },
        );
      }
      expect(mtls.requests.map((r) => r.clientCertificate)).toEqual([
        'nest-pools test client',
        'nest-pools test client',
      ]);
    },
  );

  it('gives each named client its own TLS options, its health probe included', async () => {
    const moduleRef = await startHttpPoolsWithEnv(
      {},
      { name: 'public', healthUrl: `${mtls.url}/health` },
      {
        name: 'internal',
        tlsCaFile: certs.ca,
        tlsCertFile: certs.clientCert,
        tlsKeyFile: certs.clientKey,
        healthUrl: `${mtls.url}/health`,
      },
    );
    try {
      const probe = (name: string) =>
        moduleRef.get<HttpPoolClient>(getHttpPoolClientToken(name)).checkHealth();
      expect(await probe('internal')).toMatchObject({ status: 'up' });
      expect(await probe('public')).toMatchObject({
        status: 'down',
        error: expect.stringContaining('HTTP_TLS_CA_FILE') as unknown,
      });
      const internal = moduleRef.get<HttpService>(getHttpPoolToken('internal'));
      const pub = moduleRef.get<HttpService>(getHttpPoolToken('public'));
      expect((await get(internal, `${mtls.url}/internal`)).status).toBe(200);
      expect((await failure(get(pub, `${https.url}/public`))).code).toBe(
        'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      );
    } finally {
      await moduleRef.close();
    }
    expect(mtls.requests.map((r) => [r.path, r.clientCertificate])).toEqual([
      ['/health', 'nest-pools test client'],
      ['/internal', 'nest-pools test client'],
    ]);
    expect(https.totalRequests).toBe(0);
  });

  it.each(TRANSPORTS)(
    '%s: HTTP_TLS_REJECT_UNAUTHORIZED=false accepts the untrusted upstream and warns at startup, naming the client',
    async (transport) => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      await withClient(
        { HTTP_TLS_REJECT_UNAUTHORIZED: 'false' },
        { name: 'legacy', transport },
        async (http) => {
          expect(warn.mock.calls.map(([message]) => String(message))).toEqual([
            expect.stringContaining('TLS certificate verification is OFF for HTTP client "legacy"'),
          ]);
          expect((await get(http, `${https.url}/insecure`)).status).toBe(200);
        },
      );
      expect(https.totalRequests).toBe(1);
    },
  );

  it('logs no TLS warning while verification is on', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await withClient({ HTTP_TLS_CA_FILE: certs.ca }, {}, async (http) => {
      expect((await get(http, `${https.url}/quiet`)).status).toBe(200);
    });
    expect(warn).not.toHaveBeenCalled();
  });

  it('in production refuses the opt-out from env, and takes it as one named client option', async () => {
    const refused = await build({
      APP_ENV: 'production',
      HTTP_TLS_REJECT_UNAUTHORIZED: 'false',
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ConfigValidationError);
    expect((refused as ConfigValidationError).issues).toEqual([
      expect.objectContaining({
        variable: 'HTTP_TLS_REJECT_UNAUTHORIZED',
        allowed: expect.stringContaining('tlsRejectUnauthorized: false') as unknown,
      }),
    ]);

    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await withClient(
      { APP_ENV: 'production' },
      { name: 'vendor', tlsRejectUnauthorized: false },
      async (http) => {
        expect((await get(http, `${https.url}/vendor`)).status).toBe(200);
      },
    );
    expect(String(warn.mock.calls[0]?.[0])).toContain('HTTP client "vendor"');
  });

  it('fails startup naming the variable when a TLS file cannot be read', async () => {
    const missing = join(suite.dir, 'missing.pem');
    const cases: Array<[Record<string, string>, HttpPoolOptions, string]> = [
      [{ HTTP_TLS_CA_FILE: missing }, {}, 'HTTP_TLS_CA_FILE'],
      [{ HTTP_TLS_CA_FILE: suite.dir }, {}, 'HTTP_TLS_CA_FILE'],
      [
        { HTTP_TLS_CERT_FILE: missing, HTTP_TLS_KEY_FILE: certs.clientKey },
        {},
        'HTTP_TLS_CERT_FILE',
      ],
      [
        { HTTP_TLS_CERT_FILE: certs.clientCert, HTTP_TLS_KEY_FILE: missing },
        {},
        'HTTP_TLS_KEY_FILE',
      ],
      [{}, { name: 'named', tlsCaFile: missing }, 'options.tlsCaFile'],
    ];
    for (const [env, options, variable] of cases) {
      const error = await build(env, options).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigValidationError);
      expect((error as ConfigValidationError).issues).toEqual([
        expect.objectContaining({ variable, allowed: 'the path of a readable PEM file' }),
      ]);
      expect(String(error)).toContain(variable);
    }
  });
});
