import type { ExecutionContext } from '@nestjs/common';
import { ForbiddenException, type HttpException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import type { AppConfig } from '../config/app-config.js';
import { ApiKeyGuard, PublicRoute } from './api-key.guard.js';
import { mintApiKey } from './api-key.js';

const SECRET = 'guard-spec-secret-0123456789abcdef012';
const OLD_SECRET = 'guard-spec-old-secret-0123456789abcd';

class Handlers {
  write(): void {}
  @PublicRoute()
  read(): void {}
}

interface Call {
  headers?: Record<string, string>;
  params?: Record<string, string>;
  body?: unknown;
  handler?: 'write' | 'read';
}

function run(config: Partial<AppConfig>, call: Call) {
  const guard = new ApiKeyGuard(new Reflector(), config as AppConfig);
  const responseHeaders: Record<string, string> = {};
  const req = { headers: call.headers ?? {}, params: call.params ?? {}, body: call.body };
  const res = { setHeader: (name: string, value: string) => (responseHeaders[name] = value) };
  const context = {
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
    getHandler: () => Handlers.prototype[call.handler ?? 'write'],
    getClass: () => Handlers,
  } as unknown as ExecutionContext;
  try {
    return { passed: guard.canActivate(context), responseHeaders };
  } catch (error) {
    return { error: error as HttpException, responseHeaders };
  }
}

const on = { apiTokenSecret: SECRET };
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('ApiKeyGuard', () => {
  it('lets everything through when API keys are off (development without a secret)', () => {
    expect(run({}, { params: { owner: 'alice' } }).passed).toBe(true);
  });

  it('lets public routes through without a key', () => {
    expect(run(on, { handler: 'read', params: { owner: 'alice' } }).passed).toBe(true);
  });

  it('answers 401 with WWW-Authenticate when the key is missing', () => {
    const { error, responseHeaders } = run(on, { body: { owner: 'alice' } });
    expect(error).toBeInstanceOf(UnauthorizedException);
    expect(responseHeaders['WWW-Authenticate']).toBe('Bearer realm="codebot"');
  });

  it.each([
    ['another scheme', { authorization: 'Basic YWxpY2U6cHc=' }],
    ['not a key', bearer('just-a-password')],
    ['a wrong signature', bearer(mintApiKey('alice', 'some-other-secret-0123456789abcdef'))],
  ])('answers 401 invalid_token for %s, never echoing the key', (_title, headers) => {
    const { error, responseHeaders } = run(on, { headers, body: { owner: 'alice' } });
    expect(error).toBeInstanceOf(UnauthorizedException);
    expect(responseHeaders['WWW-Authenticate']).toMatch(
      /^Bearer realm="codebot", error="invalid_token", error_description="[^"]+"$/,
    );
    const presented = headers.authorization.replace(/^\w+ /, '');
    expect(JSON.stringify(error?.getResponse())).not.toContain(presented);
    expect(responseHeaders['WWW-Authenticate']).not.toContain(presented);
  });

  it('answers 403 when the key belongs to another owner than the path or body names', () => {
    const bob = bearer(mintApiKey('bob', SECRET));
    for (const call of [{ params: { owner: 'alice' } }, { body: { owner: 'alice' } }]) {
      const { error } = run(on, { headers: bob, ...call });
      expect(error).toBeInstanceOf(ForbiddenException);
      expect(JSON.stringify(error?.getResponse())).toContain('belongs to \\"bob\\"');
    }
  });

  it('accepts the owner’s key from either header, and a previous-secret key during a rotation', () => {
    const key = mintApiKey('alice', SECRET);
    expect(run(on, { headers: bearer(key), params: { owner: 'alice' } }).passed).toBe(true);
    expect(run(on, { headers: { 'x-api-key': key }, body: { owner: 'alice' } }).passed).toBe(true);
    const old = bearer(mintApiKey('alice', OLD_SECRET));
    const rotating = { apiTokenSecret: SECRET, apiTokenPreviousSecret: OLD_SECRET };
    expect(run(rotating, { headers: old, body: { owner: 'alice' } }).passed).toBe(true);
    expect(run(on, { headers: old, body: { owner: 'alice' } }).error).toBeInstanceOf(
      UnauthorizedException,
    );
  });

  it('passes a valid key with no valid target owner on to validation (400 naming the field)', () => {
    const key = bearer(mintApiKey('alice', SECRET));
    expect(run(on, { headers: key, body: { owner: 'not valid!' } }).passed).toBe(true);
    expect(run(on, { headers: key, body: 'not an object' }).passed).toBe(true);
  });
});
