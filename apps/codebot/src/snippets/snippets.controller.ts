import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpException,
  HttpStatus,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Response } from 'express';

import { ApiKeyGuard, PublicRoute } from '../auth/api-key.guard.js';
import { unavailableAnswer } from '../errors/dependency-unavailable.filter.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import {
  checkName,
  checkOwner,
  type FieldError,
  validateImportInput,
  validateSnippetInput,
} from './snippet.validation.js';
import { SnippetExistsError } from './snippet-errors.js';
import { SnippetImportService } from './snippet-import.service.js';
import { SnippetsService, type SnippetView } from './snippets.service.js';

function badRequest(fields: FieldError[]): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: `Invalid ${fields.map((f) => f.field).join(', ')}`,
    fields,
  });
}

/**
 * REST API over snippets, used by people and load tests. Writes (create, import, delete) need the
 * owner's API key; reads are public, as snippets are shared code. The key is checked before the
 * rate limit, so requests without a valid key never use up an owner's quota.
 */
@Controller('api/snippets')
@UseGuards(ApiKeyGuard, RateLimitGuard)
export class SnippetsController {
  constructor(
    private readonly snippets: SnippetsService,
    private readonly importer: SnippetImportService,
  ) {}

  /** `POST /api/snippets` `{owner, name, language, code}` → 201, 400, 401, 403, 409 or 429. */
  @Post()
  @HttpCode(HttpStatus.CREATED)
  async create(@Body() body: unknown): Promise<SnippetView> {
    const input = validateSnippetInput(body);
    if (input.errors) throw badRequest(input.errors);
    try {
      return await this.snippets.create(input.value, 'api');
    } catch (error) {
      if (error instanceof SnippetExistsError) throw new ConflictException(error.message);
      throw error;
    }
  }

  /** `POST /api/snippets/import` `{owner, gistId}` → 201 with what was imported. */
  @Post('import')
  @HttpCode(HttpStatus.CREATED)
  async import(@Body() body: unknown): Promise<{ imported: SnippetView[]; skipped: string[] }> {
    const input = validateImportInput(body);
    if (input.errors) throw badRequest(input.errors);
    const result = await this.importer.importGist(input.value.owner, input.value.gistId);
    if (!result.ok) {
      if (result.reason === 'not_found') throw new NotFoundException(result.message);
      if (result.reason === 'empty') {
        throw new HttpException(result.message, HttpStatus.UNPROCESSABLE_ENTITY);
      }
      // An open circuit answers 503 with the breaker's Retry-After; other failures 502.
      if (unavailableAnswer(result.cause) !== undefined) throw result.cause as Error;
      throw new HttpException(result.message, HttpStatus.BAD_GATEWAY);
    }
    if (result.imported.length === 0) {
      throw new ConflictException(`Every file name is taken: ${result.skipped.join(', ')}`);
    }
    return { imported: result.imported, skipped: result.skipped };
  }

  /** `GET /api/snippets?owner=&limit=` (limit 1..100, default 20). */
  @Get()
  @PublicRoute()
  async list(
    @Query('owner') owner: unknown,
    @Query('limit') limitRaw: unknown,
  ): Promise<{ items: SnippetView[] }> {
    const errors: FieldError[] = [];
    const ownerError = checkOwner(owner);
    if (ownerError) errors.push(ownerError);
    const limit = limitRaw === undefined ? 20 : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      errors.push({ field: 'limit', message: 'must be an integer 1..100' });
    }
    if (errors.length > 0) throw badRequest(errors);
    return { items: await this.snippets.list(owner as string, limit) };
  }

  /** `GET /api/snippets/:owner/:name`, through the Redis cache (`X-Cache: HIT|MISS`). */
  @Get(':owner/:name')
  @PublicRoute()
  async get(
    @Param('owner') owner: string,
    @Param('name') name: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SnippetView> {
    const errors = [checkOwner(owner), checkName(name)].filter((e): e is FieldError => !!e);
    if (errors.length > 0) throw badRequest(errors);
    const { snippet, cache } = await this.snippets.get(owner, name);
    res.setHeader('X-Cache', cache.toUpperCase());
    if (!snippet) throw new NotFoundException(`Snippet "${name}" not found for ${owner}.`);
    return snippet;
  }

  /** `DELETE /api/snippets/:owner/:name` → 204, 401, 403 or 404. */
  @Delete(':owner/:name')
  @HttpCode(HttpStatus.NO_CONTENT)
  async delete(@Param('owner') owner: string, @Param('name') name: string): Promise<void> {
    const errors = [checkOwner(owner), checkName(name)].filter((e): e is FieldError => !!e);
    if (errors.length > 0) throw badRequest(errors);
    if (!(await this.snippets.delete(owner, name))) {
      throw new NotFoundException(`Snippet "${name}" not found for ${owner}.`);
    }
  }
}
