import { HttpService } from '@nestjs/axios';
import type { AxiosPromise, AxiosRequestConfig, AxiosResponse } from 'axios';
import { Observable } from 'rxjs';

type AxiosCall<T> = (...args: unknown[]) => AxiosPromise<T>;

/**
 * `@nestjs/axios`'s `HttpService` (same methods, same Observable contract, `instanceof
 * HttpService`) with a cheaper cancellation: unsubscribing before the response aborts the request
 * through an `AbortSignal` (combined with the caller's own `signal`), and unsubscribing after it
 * costs nothing. The stock service arms a `CancelToken` per request and fires it on every
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
      const call = [...args];
      call[last] = config;
      let controller: AbortController | undefined;
      // A caller-provided cancelToken stays the caller's business, as in the stock service.
      if (!config.cancelToken) {
        controller = new AbortController();
        const own = config.signal as AbortSignal | undefined;
        config.signal = own ? AbortSignal.any([own, controller.signal]) : controller.signal;
      }
      let settled = false;
      axios(...call).then(
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
        if (!settled && config.responseType !== 'stream') controller?.abort();
      };
    });
  }
}
