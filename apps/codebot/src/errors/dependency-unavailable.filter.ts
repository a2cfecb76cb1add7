import { PoolTimeoutError, PoolUnavailableError, redact } from '@nest-pools/core';
import { RedisOfflineQueueFullError } from '@nest-pools/redis';
import {
  type ArgumentsHost,
  Catch,
  HttpStatus,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';
import mongoose from 'mongoose';

/** Driver errors that mean "MongoDB cannot take this request now", not "the request is wrong". */
const MONGO_UNAVAILABLE = [
  mongoose.mongo.MongoServerSelectionError,
  mongoose.mongo.MongoNetworkTimeoutError,
  mongoose.mongo.MongoNetworkError,
];

/**
 * Server error codes that mean "this member cannot take the operation now" during an election or
 * a shutdown (not primary, recovering, stepped down, interrupted): the request is sound and a
 * retry after the election succeeds. The driver retries such an error once; one that gets past it
 * is answered 503.
 */
const MONGO_NOT_PRIMARY_CODES = new Set([
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  10058, // LegacyNotPrimary
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/**
 * The driver does not export its wait-queue timeout class, so no `@Catch()` list can name it; its
 * name is stable.
 */
const MONGO_WAIT_QUEUE_TIMEOUT = 'MongoWaitQueueTimeoutError';

/** What a 503 says, and when to come back. */
export interface UnavailableAnswer {
  /** `Retry-After`, in seconds. */
  retryAfterSeconds: number;
  /** The body's message, redacted. */
  message: string;
}

/**
 * The 503 answer for an error raised because a pool cannot serve the request — an open circuit
 * (`PoolUnavailableError`, with its own retry time), the driver's server-selection, wait-queue or
 * network timeout, a Redis dedicated-connection or offline-queue limit — or `undefined` for any
 * other error.
 */
export function unavailableAnswer(error: unknown): UnavailableAnswer | undefined {
  if (error instanceof PoolUnavailableError) {
    return { retryAfterSeconds: error.retryAfterSeconds, message: error.message };
  }
  const known =
    error instanceof PoolTimeoutError ||
    error instanceof RedisOfflineQueueFullError ||
    MONGO_UNAVAILABLE.some((type) => error instanceof type) ||
    (error instanceof mongoose.mongo.MongoServerError &&
      MONGO_NOT_PRIMARY_CODES.has(Number(error.code))) ||
    (error instanceof Error && error.name === MONGO_WAIT_QUEUE_TIMEOUT);
  if (!known) return undefined;
  return {
    retryAfterSeconds: 1,
    message: redact(`A backing store is unavailable (${(error as Error).name}); retry shortly.`),
  };
}

/**
 * What a handler that turns any failure into a 503 should throw: `error` itself when it is a pool
 * being unavailable (the filter then answers with its message and `Retry-After`), else a plain
 * 503 saying `message`.
 */
export function asUnavailable(error: unknown, message: string): Error {
  return unavailableAnswer(error) === undefined
    ? new ServiceUnavailableException(message)
    : (error as Error);
}

/**
 * Answers requests that failed because a pool is unavailable with 503 and `Retry-After`, never
 * 500 and never a hang: a load balancer or client then backs off instead of retrying into the
 * outage. It sees every error (the driver's wait-queue timeout has no exported class to list in
 * `@Catch()`), and hands each one it does not recognise to Nest's own handling unchanged.
 */
@Catch()
export class DependencyUnavailableFilter extends BaseExceptionFilter {
  private readonly logger = new Logger(DependencyUnavailableFilter.name);

  override catch(error: unknown, host: ArgumentsHost): void {
    const answer = unavailableAnswer(error);
    if (answer === undefined || host.getType() !== 'http') {
      super.catch(error, host);
      return;
    }
    this.logger.warn(
      `503 (retry after ${answer.retryAfterSeconds} s): ${redact((error as Error).message)}`,
    );
    const response = host.switchToHttp().getResponse<Response>();
    response
      .status(HttpStatus.SERVICE_UNAVAILABLE)
      .setHeader('Retry-After', String(answer.retryAfterSeconds))
      .json({
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: 'Service Unavailable',
        message: answer.message,
      });
  }
}
