import { Body, Controller, Delete, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authorize, ProblemResponse } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import { IdParam } from '../common/id-param.js';
import { PageDtoOf, PageQueryDto, type Page } from '../common/pagination.js';
import { AcceptsIdempotencyKey, IdempotencyKey } from '../idempotency/idempotency-key.decorator.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { ApiKeysService } from './api-keys.service.js';
import {
  ApiKeyDto,
  CreateApiKeyDto,
  CreatedApiKeyDto,
  RevokeApiKeyDto,
  RevokeApiKeyQueryDto,
  RotateApiKeyDto,
  RotatedApiKeyDto,
} from './dto/api-keys.dto.js';
import { ApiKeyErrors } from './api-keys.errors.js';

const ApiKeyPage = PageDtoOf(ApiKeyDto, 'ApiKeyPage');

@ApiTags('API keys')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @Authorize('create', 'ApiKey', { principals: ['user', 'platform_admin'] })
  @AcceptsIdempotencyKey({ replays: true })
  @ApiOperation({
    operationId: 'ApiKeys_create',
    summary:
      'Create an API key (admin; role no higher than your own, 403 otherwise); the key is shown once (and ' +
      'again only to a retry with the same Idempotency-Key). Not available to API keys, applications or ' +
      'switched-in operators',
  })
  @ApiCreatedResponse({
    type: CreatedApiKeyDto,
    headers: {
      'Idempotent-Replayed': {
        description: '`true` when this answers a retry of an earlier request with the same Idempotency-Key',
        schema: { type: 'string', enum: ['true'] },
      },
    },
  })
  async create(
    @Tenant() tenant: TenantContext,
    @Body() dto: CreateApiKeyDto,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CreatedApiKeyDto> {
    const { created, replayed } = await this.apiKeys.create(tenant, dto, idempotencyKey);
    if (replayed) void reply.header('Idempotent-Replayed', 'true');
    return created;
  }

  @Get()
  @Authorize('read', 'ApiKey')
  @ApiOperation({ operationId: 'ApiKeys_list', summary: "The company's API keys, masked, newest first" })
  @ApiOkResponse({ type: ApiKeyPage })
  list(@Query() query: PageQueryDto): Promise<Page<ApiKeyDto>> {
    return this.apiKeys.list(query);
  }

  @Get(':id')
  @Authorize('read', 'ApiKey')
  @ApiOperation({ operationId: 'ApiKeys_get', summary: 'One API key, masked' })
  @ApiOkResponse({ type: ApiKeyDto })
  get(@IdParam() id: string): Promise<ApiKeyDto> {
    return this.apiKeys.get(id);
  }

  @Delete(':id')
  @HttpCode(200)
  @Authorize('delete', 'ApiKey')
  @ApiOperation({
    operationId: 'ApiKeys_revoke',
    summary:
      'Revoke an API key at once, with a reason (JSON body `{ reason }` or `?reason=`); answers the revoked key',
  })
  @ApiBody({ type: RevokeApiKeyDto, required: false })
  @ApiOkResponse({ type: ApiKeyDto })
  revoke(
    @Tenant() tenant: TenantContext,
    @IdParam() id: string,
    @Body() body: RevokeApiKeyDto,
    @Query() query: RevokeApiKeyQueryDto,
  ): Promise<ApiKeyDto> {
    const reason = body.reason ?? query.reason;
    if (!reason) throw ApiKeyErrors.RevokeReasonMissing();
    return this.apiKeys.revoke(tenant, id, reason);
  }

  @Post(':id/rotate')
  @Authorize('rotate', 'ApiKey')
  @AcceptsIdempotencyKey()
  @ApiOperation({
    operationId: 'ApiKeys_rotate',
    summary:
      'Replace a key: the new key (shown once) and the old one, valid for `overlapHours` more (default 24). ' +
      'People only; you become the new key’s creator',
  })
  @ApiBody({ type: RotateApiKeyDto, required: false })
  @ApiCreatedResponse({ type: RotatedApiKeyDto })
  @ProblemResponse(409, 'The key is revoked, expired or already rotated (CONFLICT)')
  rotate(
    @Tenant() tenant: TenantContext,
    @IdParam() id: string,
    @Body() dto: RotateApiKeyDto,
    @IdempotencyKey() idempotencyKey: string | undefined,
  ): Promise<RotatedApiKeyDto> {
    return this.apiKeys.rotate(tenant, id, dto, idempotencyKey);
  }
}
