import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';

import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { OWNER_PATTERN } from '../snippets/snippet.validation.js';
import { type ApiKeySecrets, presentedApiKey, verifyApiKey } from './api-key.js';

/** Metadata key set by {@link PublicRoute}. */
export const PUBLIC_ROUTE = 'codebot:publicRoute';

/** Marks a handler that needs no API key (the snippet reads); every other route of a guarded controller does. */
export const PublicRoute = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

/** `WWW-Authenticate` realm of the snippet API. */
const REALM = 'Bearer realm="codebot"';

/** The owner a write targets: `:owner` in the path, else `owner` in the JSON body. */
function targetOwner(req: Request): string | undefined {
  const params = req.params as Record<string, string | undefined>;
  const body = req.body as Record<string, unknown> | undefined;
  const candidate = params.owner ?? body?.owner;
  return typeof candidate === 'string' && OWNER_PATTERN.test(candidate) ? candidate : undefined;
}

/**
 * Requires an API key (`Authorization: Bearer <key>` or `X-Api-Key`) on every route not marked
 * {@link PublicRoute}: 401 with `WWW-Authenticate` when it is missing, malformed or not signed by
 * `API_TOKEN_SECRET` (or `API_TOKEN_PREVIOUS_SECRET`), 403 when it belongs to another owner than
 * the one the request writes to. A request without a valid target owner passes on, so validation
 * answers 400 naming the field. Without `API_TOKEN_SECRET` (development only) every request passes.
 * The key itself is never logged or echoed.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly secrets: ApiKeySecrets | undefined;

  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.secrets =
      config.apiTokenSecret === undefined
        ? undefined
        : {
            current: config.apiTokenSecret,
            ...(config.apiTokenPreviousSecret !== undefined
              ? { previous: config.apiTokenPreviousSecret }
              : {}),
          };
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.secrets === undefined) return true;
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;

    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const presented = presentedApiKey(req.headers);
    if (presented.kind === 'missing') {
      res.setHeader('WWW-Authenticate', REALM);
      throw unauthorized(
        'An API key is required: send "Authorization: Bearer <key>" or "X-Api-Key: <key>".',
      );
    }
    if (presented.kind === 'malformed') {
      res.setHeader('WWW-Authenticate', invalidToken('malformed credentials'));
      throw unauthorized(presented.message);
    }
    const verified = verifyApiKey(presented.key, this.secrets);
    if (!verified.ok) {
      if (verified.reason === 'malformed') {
        res.setHeader('WWW-Authenticate', invalidToken('not an API key'));
        throw unauthorized('The API key is malformed: expected "<owner>.<signature>".');
      }
      res.setHeader('WWW-Authenticate', invalidToken('signature does not match'));
      throw unauthorized(
        "The API key is not valid: it was not signed with this deployment's API_TOKEN_SECRET (mistyped, or revoked by a rotation).",
      );
    }
    const target = targetOwner(req);
    if (target !== undefined && target !== verified.owner) {
      throw new ForbiddenException({
        statusCode: 403,
        error: 'Forbidden',
        message: `This API key belongs to "${verified.owner}"; only a key of "${target}" may write or delete its snippets.`,
      });
    }
    return true;
  }
}

function invalidToken(description: string): string {
  return `${REALM}, error="invalid_token", error_description="${description}"`;
}

function unauthorized(message: string): UnauthorizedException {
  return new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message });
}
