import { Inject } from '@nestjs/common';

import { getHttpPoolToken } from './http-pool.utils.js';

/**
 * Injects the `HttpService` (from `@nestjs/axios`) of the pooled client `name`.
 *
 * @example
 * ```ts
 * constructor(@InjectHttpPool('github') private readonly github: HttpService) {}
 * ```
 */
export const InjectHttpPool = (name?: string): ParameterDecorator => Inject(getHttpPoolToken(name));
