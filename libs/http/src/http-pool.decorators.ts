import { Inject } from '@nestjs/common';

import { getHttpPoolRequesterToken, getHttpPoolToken } from './http-pool.utils.js';

/**
 * Injects the `HttpService` (from `@nestjs/axios`) of the pooled client `name`.
 *
 * @example
 * ```ts
 * constructor(@InjectHttpPool('github') private readonly github: HttpService) {}
 * ```
 */
export const InjectHttpPool = (name?: string): ParameterDecorator => Inject(getHttpPoolToken(name));

/**
 * Injects the native {@link HttpPoolRequester} of the pooled client `name`: the same sockets,
 * limits, retry rules, circuit breakers, metrics and shutdown as its `HttpService`, with undici's
 * request API instead of axios's, for hot paths.
 *
 * @example
 * ```ts
 * constructor(@InjectHttpPoolRequester('github') private readonly github: HttpPoolRequester) {}
 * ```
 */
export const InjectHttpPoolRequester = (name?: string): ParameterDecorator =>
  Inject(getHttpPoolRequesterToken(name));
