import { PoolTimeoutError, PoolUnavailableError, redact } from '@nest-pools/core';
import { RedisOfflineQueueFullError } from '@nest-pools/redis';
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Response } from 'express';
import mongoose from 'mongoose';

/** Driver errors that mean "MongoDB cannot take this request now", not "the request is wrong". */
const MONGO_UNAVAILABLE = [
  mongoose.mongo.MongoServerSelectionError,
  mongoose.mongo.MongoNetworkTimeoutError,
  mongoose.mongo.MongoNetworkError,
];

/** The driver does not export its wait-queue timeout class; its name is stable. */
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
    (error instanceof Error && error.name === MONGO_WAIT_QUEUE_TIMEOUT);
  if (!known) return undefined;
  return {
    retryAfterSeconds: 1,
    message: redact(`A backing store is unavailable (${(error as Error).name}); retry shortly.`),
  };
}

/**
 * Answers requests that failed because a pool is unavailable with 503 and `Retry-After`, never
 * 500 and never a hang: a load balancer or client then backs off instead of retrying into the
 * outage. Every other error goes on to Nest's own handling unchanged.
 */
@Catch(PoolUnavailableError, PoolTimeoutError, RedisOfflineQueueFullError, ...MONGO_UNAVAILABLE)
export class DependencyUnavailableFilter implements ExceptionFilter {
  private readonly logger = new Logger(DependencyUnavailableFilter.name);

  catch(error: Error, host: ArgumentsHost): void {
    const answer = unavailableAnswer(error) ?? {
      retryAfterSeconds: 1,
      message: 'Service unavailable',
    };
    if (host.getType() !== 'http') throw error;
    this.logger.warn(
      `503 (retry after ${answer.retryAfterSeconds} s): ${redact((error).message)}`,
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
