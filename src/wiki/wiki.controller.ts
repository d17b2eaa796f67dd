import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import {
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authorize, ProblemResponse } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import { IdParam } from '../common/id-param.js';
import type { RouteBodyLimit } from '../common/json-body.js';
import { PageDtoOf, PageQueryDto, type Page } from '../common/pagination.js';
import type { TenantContext } from '../tenancy/request-store.js';
import {
  CreateWikiPageDto,
  UpdateWikiPageDto,
  WikiDeleteQueryDto,
  WikiListQueryDto,
  WikiPageDto,
  WikiPageSummaryDto,
  WikiRevisionDto,
  WikiRevisionSummaryDto,
  WikiSearchHitDto,
  WikiSearchQueryDto,
} from './dto/wiki.dto.js';
import { etagOf } from '../common/if-match.js';
import { WikiRevisionsService } from './wiki-revisions.service.js';
import { WikiSearchService } from './wiki-search.service.js';
import { WikiTreeService } from './wiki-tree.service.js';
import { WikiService } from './wiki.service.js';

const WikiPageList = PageDtoOf(WikiPageSummaryDto, 'WikiPagePage');
const WikiRevisionPage = PageDtoOf(WikiRevisionSummaryDto, 'WikiRevisionPage');
const WikiSearchPage = PageDtoOf(WikiSearchHitDto, 'WikiSearchPage');

/** A page body may be 1 MiB of text; JSON escaping (quotes, newlines, backslashes) can double it. */
const PAGE_BODY_LIMIT: RouteBodyLimit = { bodyLimit: 2 * 1024 * 1024 + 64 * 1024 };
const ETAG_HEADER = { ETag: { description: 'The page version, `"<version>"`', schema: { type: 'string' } } };

function withEtag(reply: FastifyReply, page: WikiPageDto): WikiPageDto {
  void reply.header('ETag', etagOf(page.version));
  return page;
}

@ApiTags('Wiki')
@Controller('v1/wiki')
export class WikiController {
  constructor(
    private readonly wiki: WikiService,
    private readonly tree: WikiTreeService,
    private readonly revisions: WikiRevisionsService,
    private readonly searcher: WikiSearchService,
  ) {}

  @Get('pages')
  @Authorize('read', 'WikiPage')
  @ApiOperation({
    operationId: 'Wiki_list',
    summary: 'Children of a page (`?parentId=`), or the top-level pages, by title',
  })
  @ApiOkResponse({ type: WikiPageList })
  list(@Query() query: WikiListQueryDto): Promise<Page<WikiPageSummaryDto>> {
    return this.tree.list(query);
  }

  @Post('pages')
  @RouteConfig(PAGE_BODY_LIMIT)
  @Authorize('create', 'WikiPage')
  @ApiOperation({
    operationId: 'Wiki_create',
    summary: 'Create a page (its first revision); the slug is derived from the title unless given',
  })
  @ApiCreatedResponse({ type: WikiPageDto, headers: ETAG_HEADER })
  @ProblemResponse(404, 'parentId is not a page of the company (NOT_FOUND)')
  @ProblemResponse(409, 'The slug is taken (CONFLICT)')
  async create(
    @Tenant() tenant: TenantContext,
    @Body() dto: CreateWikiPageDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<WikiPageDto> {
    const page = await this.wiki.create(tenant, dto);
    void reply.header('Location', `/v1/wiki/pages/${page.id}`);
    return withEtag(reply, page);
  }

  @Get('pages/by-slug/:slug')
  @Authorize('read', 'WikiPage')
  @ApiOperation({ operationId: 'Wiki_getBySlug', summary: 'A page by its slug' })
  @ApiOkResponse({ type: WikiPageDto, headers: ETAG_HEADER })
  async getBySlug(
    @Param('slug') slug: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<WikiPageDto> {
    return withEtag(reply, await this.wiki.getBySlug(slug));
  }

  @Get('pages/:id')
  @Authorize('read', 'WikiPage')
  @ApiOperation({ operationId: 'Wiki_get', summary: 'A page with its Markdown body' })
  @ApiOkResponse({ type: WikiPageDto, headers: ETAG_HEADER })
  async get(@IdParam() id: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<WikiPageDto> {
    return withEtag(reply, await this.wiki.get(id));
  }

  @Patch('pages/:id')
  @RouteConfig(PAGE_BODY_LIMIT)
  @Authorize('update', 'WikiPage')
  @ApiOperation({
    operationId: 'Wiki_update',
    summary:
      'Change title, body or parent (a move) of the version named by If-Match; each change is a revision',
  })
  @ApiHeader({
    name: 'If-Match',
    required: true,
    description: 'The ETag of the version the change is based on',
  })
  @ApiOkResponse({ type: WikiPageDto, headers: ETAG_HEADER })
  @ProblemResponse(409, 'The new parent is the page itself or below it (CONFLICT)')
  @ProblemResponse(412, 'The page changed since that version (PRECONDITION_FAILED, with currentVersion)')
  @ProblemResponse(428, 'If-Match is missing (PRECONDITION_REQUIRED)')
  async update(
    @Tenant() tenant: TenantContext,
    @IdParam() id: string,
    @Body() dto: UpdateWikiPageDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<WikiPageDto> {
    return withEtag(reply, await this.wiki.update(tenant, id, dto, ifMatch));
  }

  @Delete('pages/:id')
  @HttpCode(204)
  @Authorize('delete', 'WikiPage')
  @ApiOperation({
    operationId: 'Wiki_delete',
    summary:
      'Delete a page and its revisions (the creator or a manager); with children only with ?cascade=true',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ProblemResponse(409, 'The page has children and cascade is not set (CONFLICT)')
  async delete(
    @Tenant() tenant: TenantContext,
    @IdParam() id: string,
    @Query() query: WikiDeleteQueryDto,
  ): Promise<void> {
    await this.tree.remove(tenant, id, query.cascade === 'true');
  }

  @Get('pages/:id/revisions')
  @Authorize('read', 'WikiPage')
  @ApiOperation({ operationId: 'Wiki_listRevisions', summary: 'Revisions of a page, newest first' })
  @ApiOkResponse({ type: WikiRevisionPage })
  listRevisions(@IdParam() id: string, @Query() query: PageQueryDto): Promise<Page<WikiRevisionSummaryDto>> {
    return this.revisions.listRevisions(id, query);
  }

  @Get('pages/:id/revisions/:revisionId')
  @Authorize('read', 'WikiPage')
  @ApiOperation({
    operationId: 'Wiki_getRevision',
    summary: 'One revision: the whole page as it stood after that change, with its author',
  })
  @ApiOkResponse({ type: WikiRevisionDto })
  getRevision(@IdParam() id: string, @IdParam('revisionId') revisionId: string): Promise<WikiRevisionDto> {
    return this.revisions.getRevision(id, revisionId);
  }

  @Get('search')
  @Authorize('read', 'WikiPage')
  @ApiOperation({
    operationId: 'Wiki_search',
    summary:
      "Full-text search over the company's page titles and bodies, best first, with plain-text snippets",
    description:
      'Ranks the newest matches only: at most 500 divided by the size of the parsed query (terms and operators, ' +
      'a phrase operator counting three), 20 at least (500 for one word, 166 for two, 100 for a two-word phrase). ' +
      'A query with no more matches is ranked over all of them; with more, hits are in rank order among those ' +
      'candidates and `nextCursor` is null after the last of them.',
  })
  @ApiOkResponse({ type: WikiSearchPage })
  search(@Query() query: WikiSearchQueryDto): Promise<Page<WikiSearchHitDto>> {
    return this.searcher.search(query);
  }
}
