import { HttpService } from '@nestjs/axios';
import type { AxiosPromise, AxiosRequestConfig, AxiosResponse } from 'axios';
import { Observable } from 'rxjs';

import { refusedAdapterError } from './transport/axios-options.js';
import {
  type CancelHook,
  type PooledAdapter,
  pooledAdapterOf,
} from './transport/pooled-adapter.js';

type AxiosCall<T> = (...args: unknown[]) => AxiosPromise<T>;

/**
 * `@nestjs/axios`'s `HttpService` (same methods, same Observable contract, `instanceof
 * HttpService`) with a cheaper cancellation: unsubscribing before the response cancels the request
 * (`ERR_CANCELED`), and unsubscribing after it costs nothing. A request naming its own `adapter`
 * fails with `ERR_POOL_UNSUPPORTED_OPTION`: it would bypass the pool. On the pooled adapter with no request
 * interceptor the cancel is a direct call into the adapter and the config gets no `signal`;
 * otherwise an `AbortSignal` is added (combined with the caller's own). The stock service arms a `CancelToken` per request and fires it on every
 * teardown, building a `CanceledError` with a stack trace even for completed requests.
 */
export class PooledHttpService extends HttpService {
  protected override makeObservable<T>(
    axios: AxiosCall<T>,
    ...args: unknown[]
  ): Observable<AxiosResponse<T>> {
    return new Observable<AxiosResponse<T>>((subscriber) => {
      const last = args.length - 1;
      const config: AxiosRequestConfig = { ...((args[last] as AxiosRequestConfig) ?? {}) };
      if (config.adapter !== undefined && config.adapter !== null) {
        // Another adapter would bypass the pool: refused before anything is sent.
        subscriber.error(refusedAdapterError(config));
        return;
      }
      const call = [...args];
      call[last] = config;
      let cancel: (() => void) | undefined;
      let direct: { adapter: PooledAdapter; hook: CancelHook } | undefined;
      // A caller-provided cancelToken stays the caller's business, as in the stock service.
      if (!config.cancelToken) {
        const adapter = this.adapterReachedAtOnce(config);
        if (adapter) {
          // No signal to create or listen to: the adapter hands back a direct cancel.
          const hook: CancelHook = { cancel: undefined };
          direct = { adapter, hook };
          cancel = () => hook.cancel?.();
        } else {
          const controller = new AbortController();
          const own = config.signal as AbortSignal | undefined;
          config.signal = own ? AbortSignal.any([own, controller.signal]) : controller.signal;
          cancel = () => controller.abort();
        }
      }
      let settled = false;
      const pending = direct
        ? direct.adapter.withCancelHook(direct.hook, () => axios(...call))
        : axios(...call);
      pending.then(
        (response) => {
          settled = true;
          subscriber.next(response);
          subscriber.complete();
        },
        (error: unknown) => {
          settled = true;
          subscriber.error(error);
        },
      );
      return () => {
        // A streamed body outlives the Observable; the stock service never cancels it either.
        if (!settled && config.responseType !== 'stream') cancel?.();
      };
    });
  }

  /**
   * This client's pooled adapter when axios calls it synchronously for `config` (no request
   * interceptor, since they run asynchronously, and no adapter other than the pooled one), else
   * undefined.
   */
  private adapterReachedAtOnce(config: AxiosRequestConfig): PooledAdapter | undefined {
    const instance = this.axiosRef;
    if (config.adapter !== undefined) return undefined;
    const adapter = pooledAdapterOf(instance.defaults.adapter);
    if (!adapter) return undefined;
    const handlers = (instance.interceptors.request as unknown as { handlers?: unknown[] })
      .handlers;
    return handlers?.some((handler) => handler !== null && handler !== undefined)
      ? undefined
      : adapter;
  }
}
