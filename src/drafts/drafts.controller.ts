import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Authorize, ProblemResponse } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import { IdParam } from '../common/id-param.js';
import { PageDtoOf, PageQueryDto, type Page } from '../common/pagination.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { DraftVersionsService } from './draft-versions.service.js';
import { DraftsService } from './drafts.service.js';
import {
  CreateDraftDto,
  DraftDto,
  DraftQueryDto,
  DraftSummaryDto,
  DraftVersionDto,
  DraftVersionSummaryDto,
  UpdateDraftDto,
} from './dto/draft.dto.js';

const DraftPage = PageDtoOf(DraftSummaryDto, 'DraftPage');
const DraftVersionPage = PageDtoOf(DraftVersionSummaryDto, 'DraftVersionPage');

@ApiTags('Drafts')
@Controller('v1/drafts')
export class DraftsController {
  constructor(
    private readonly drafts: DraftsService,
    private readonly versions: DraftVersionsService,
  ) {}

  @Get()
  @Authorize('read', 'Draft')
  @ApiOperation({ operationId: 'Drafts_list', summary: "The company's drafts, newest first" })
  @ApiOkResponse({ type: DraftPage })
  list(@Query() query: DraftQueryDto): Promise<Page<DraftSummaryDto>> {
    return this.drafts.list(query);
  }

  @Post()
  @Authorize('create', 'Draft')
  @ApiOperation({
    operationId: 'Drafts_create',
    summary: 'Create a draft; the definition is validated as a whole (each error with its path)',
  })
  @ApiCreatedResponse({ type: DraftDto })
  @ProblemResponse(409, 'The key is a catalog key or is used by another draft (CONFLICT)')
  create(@Tenant() tenant: TenantContext, @Body() dto: CreateDraftDto): Promise<DraftDto> {
    return this.drafts.create(tenant, dto);
  }

  @Get(':id')
  @Authorize('read', 'Draft')
  @ApiOperation({ operationId: 'Drafts_get', summary: 'A draft with its working copy' })
  @ApiOkResponse({ type: DraftDto })
  get(@IdParam() id: string): Promise<DraftDto> {
    return this.drafts.get(id);
  }

  @Patch(':id')
  @Authorize('update', 'Draft')
  @ApiOperation({
    operationId: 'Drafts_update',
    summary:
      'Edit the working copy (own drafts; any draft from manager up); published versions stay as they are',
  })
  @ApiOkResponse({ type: DraftDto })
  @ProblemResponse(409, 'The key is taken, or cannot change once published (CONFLICT)')
  update(
    @Tenant() tenant: TenantContext,
    @IdParam() id: string,
    @Body() dto: UpdateDraftDto,
  ): Promise<DraftDto> {
    return this.drafts.update(tenant, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authorize('delete', 'Draft')
  @ApiOperation({
    operationId: 'Drafts_delete',
    summary: 'Delete a draft (own drafts; any draft from manager up); published versions are kept for runs',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  async delete(@Tenant() tenant: TenantContext, @IdParam() id: string): Promise<void> {
    await this.drafts.remove(tenant, id);
  }

  @Post(':id/publish')
  @HttpCode(200)
  @Authorize('publish', 'Draft')
  @ApiOperation({
    operationId: 'Drafts_publish',
    summary: 'Publish the working copy as the next immutable version (manager and up)',
  })
  @ApiOkResponse({ type: DraftDto })
  @ProblemResponse(409, 'Already published with no changes since (CONFLICT)')
  publish(@Tenant() tenant: TenantContext, @IdParam() id: string): Promise<DraftDto> {
    return this.versions.publish(tenant, id);
  }

  @Post(':id/unpublish')
  @HttpCode(200)
  @Authorize('publish', 'Draft')
  @ApiOperation({
    operationId: 'Drafts_unpublish',
    summary: 'Stop new runs from starting from any version of the draft (manager and up)',
  })
  @ApiOkResponse({ type: DraftDto })
  @ProblemResponse(409, 'The draft is not published (CONFLICT)')
  unpublish(@Tenant() tenant: TenantContext, @IdParam() id: string): Promise<DraftDto> {
    return this.versions.unpublish(tenant, id);
  }

  @Get(':id/versions')
  @Authorize('read', 'Draft')
  @ApiOperation({
    operationId: 'Drafts_listVersions',
    summary: 'Published versions of a draft, newest first',
  })
  @ApiOkResponse({ type: DraftVersionPage })
  listVersions(@IdParam() id: string, @Query() query: PageQueryDto): Promise<Page<DraftVersionSummaryDto>> {
    return this.versions.listVersions(id, query);
  }

  @Get(':id/versions/:versionId')
  @Authorize('read', 'Draft')
  @ApiOperation({
    operationId: 'Drafts_getVersion',
    summary: 'One published version with its immutable definition',
  })
  @ApiOkResponse({ type: DraftVersionDto })
  getVersion(@IdParam() id: string, @IdParam('versionId') versionId: string): Promise<DraftVersionDto> {
    return this.versions.getVersion(id, versionId);
  }
}
