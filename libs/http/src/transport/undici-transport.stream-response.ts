import type { Readable } from 'node:stream';

import type { AxiosResponse } from 'axios';
import type { Dispatcher } from 'undici';

import { toAxiosError } from './axios-errors.js';
import type { UndiciExchange } from './undici-transport.request.js';
import { undiciRequestOptions } from './undici-transport.request.js';
import {
  contentLengthError,
  declaresTooLong,
  limitStream,
  pipeDecoder,
  startResponse,
} from './undici-transport.response.js';

/**
 * One attempt with `responseType: 'stream'`, on undici's `request()`: the response's `data` is the
 * body `Readable` (decoded when compressed, limited to `maxContentLength`). The attempt's slot
 * stays taken until that stream closes; on any failure before that it is given back at once.
 */
export async function sendStreamed(
  dispatcher: Dispatcher,
  exchange: UndiciExchange,
): Promise<AxiosResponse> {
  const { attempt, request, release } = exchange;
  const { config, signal } = attempt;
  let releaseOnClose = false;
  try {
    const res = await dispatcher
      .request({ ...undiciRequestOptions(exchange), signal })
      .catch((error: unknown) => {
        if (signal.aborted) throw signal.reason;
        throw toAxiosError(error, config, request);
      });
    const { response, decode } = startResponse(
      exchange,
      res.statusCode,
      res.statusText,
      res.headers,
      res.context,
    );
    const body: Readable = decode ? pipeDecoder(res.body, decode) : res.body;
    const maxContentLength = config.maxContentLength ?? -1;
    if (!decode && declaresTooLong(res.headers, maxContentLength)) {
      res.body.destroy();
      throw contentLengthError(maxContentLength, config, request);
    }
    const stream = maxContentLength > -1 ? body.pipe(limitStream(maxContentLength, body)) : body;
    // The slot (and its socket) stays taken until the caller has read or dropped the stream.
    stream.once('close', release);
    res.body.once('close', release);
    releaseOnClose = true;
    response.data = stream;
    return response;
  } finally {
    if (!releaseOnClose) release();
  }
}
