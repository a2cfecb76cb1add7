import { DEFAULT_HTTP_POOL_NAME } from './http-pool.constants.js';

/**
 * Token of the `HttpService` of the client `name` (`'HttpPool(github)'`).
 * @default name 'default'
 */
export function getHttpPoolToken(name: string = DEFAULT_HTTP_POOL_NAME): string {
  return `HttpPool(${name})`;
}

/**
 * Token of the {@link HttpPoolClient} (transport, stats, health, close) of the client `name`.
 * @default name 'default'
 */
export function getHttpPoolClientToken(name: string = DEFAULT_HTTP_POOL_NAME): string {
  return `HttpPoolClient(${name})`;
}

/**
 * Token of the native {@link HttpPoolRequester} of the client `name` (`'HttpPoolRequester(github)'`).
 * @default name 'default'
 */
export function getHttpPoolRequesterToken(name: string = DEFAULT_HTTP_POOL_NAME): string {
  return `HttpPoolRequester(${name})`;
}
