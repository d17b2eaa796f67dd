import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Post,
  Patch,
  Query,
  Res,
} from '@nestjs/common';
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
import { PageDtoOf, type Page } from '../common/pagination.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { CardMovesService } from './card-moves.service.js';
import { CardsService } from './cards.service.js';
import {
  BoardCardsQueryDto,
  CardDto,
  CardListDto,
  CardQueryDto,
  CreateCardDto,
  MoveCardDto,
  UpdateCardDto,
} from './dto/card.dto.js';
import { etagOf } from './if-match.js';

const CardPage = PageDtoOf(CardDto, 'CardPage');

/** What Fastify answers a serialised object with. */
const JSON_UTF8 = 'application/json; charset=utf-8';

const ETAG_HEADER = {
  ETag: { description: "The card's version, quoted: send it back in `If-Match`", schema: { type: 'string' } },
};

/** `If-Match` on a card write: required (428 without), 412 when it is not the current version. */
function RequiresIfMatch(): MethodDecorator {
  return applyDecorators(
    ApiHeader({
      name: 'If-Match',
      required: true,
      description: 'The ETag (version) of the card as last read, e.g. `"3"`',
    }),
    ProblemResponse(412, 'The card changed since: `currentVersion` in the body (PRECONDITION_FAILED)'),
    ProblemResponse(428, 'If-Match is missing (PRECONDITION_REQUIRED)'),
  );
}

@ApiTags('Cards')
@Controller('v1')
export class CardsController {
  constructor(
    private readonly cards: CardsService,
    private readonly moves: CardMovesService,
  ) {}

  @Get('boards/:id/cards')
  @Authorize('read', 'Card')
  @ApiOperation({
    operationId: 'Cards_listBoard',
    summary: "A board's cards in board order (column, then rank), filtered by column, assignee or label",
  })
  @ApiOkResponse({ type: CardListDto })
  async listBoard(
    @IdParam() id: string,
    @Query() query: BoardCardsQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    // The body is a `CardListDto` already written as JSON by PostgreSQL (CardsService.listBoard): sent as it is,
    // with the content type Fastify gives a serialised object.
    const body = await this.cards.listBoard(id, query);
    void reply.type(JSON_UTF8);
    return body;
  }

  @Post('boards/:id/cards')
  @Authorize('create', 'Card')
  @ApiOperation({
    operationId: 'Cards_create',
    summary: 'Create a card at the bottom of a column of the board (409 WIP_LIMIT when the column is full)',
  })
  @ApiCreatedResponse({ type: CardDto, headers: ETAG_HEADER })
  @ProblemResponse(409, 'The column is at its WIP limit (WIP_LIMIT)')
  async create(
    @Tenant() tenant: TenantContext,
    @IdParam() id: string,
    @Body() dto: CreateCardDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CardDto> {
    const card = await this.cards.create(tenant, id, dto);
    void reply.header('ETag', etagOf(card.version));
    return card;
  }

  @Get('cards')
  @Authorize('read', 'Card')
  @ApiOperation({
    operationId: 'Cards_list',
    summary: "The company's cards across boards, newest first (e.g. `?assigneeId=` for someone's cards)",
  })
  @ApiOkResponse({ type: CardPage })
  list(@Query() query: CardQueryDto): Promise<Page<CardDto>> {
    return this.cards.list(query);
  }

  @Get('cards/:id')
  @Authorize('read', 'Card')
  @ApiOperation({ operationId: 'Cards_get', summary: "A card, with its run's current status" })
  @ApiOkResponse({ type: CardDto, headers: ETAG_HEADER })
  async get(@IdParam() id: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<CardDto> {
    const card = await this.cards.get(id);
    void reply.header('ETag', etagOf(card.version));
    return card;
  }

  @Patch('cards/:id')
  @Authorize('update', 'Card')
  @RequiresIfMatch()
  @ApiOperation({ operationId: 'Cards_update', summary: 'Edit a card (If-Match required)' })
  @ApiOkResponse({ type: CardDto, headers: ETAG_HEADER })
  async update(
    @Tenant() tenant: TenantContext,
    @IdParam() id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Body() dto: UpdateCardDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CardDto> {
    const card = await this.cards.update(tenant, id, ifMatch, dto);
    void reply.header('ETag', etagOf(card.version));
    return card;
  }

  @Post('cards/:id/move')
  @HttpCode(200)
  @Authorize('update', 'Card')
  @RequiresIfMatch()
  @ApiOperation({
    operationId: 'Cards_move',
    summary: 'Move a card within its board: to a column, after/before a card of it (neither: the top)',
  })
  @ApiOkResponse({ type: CardDto, headers: ETAG_HEADER })
  @ProblemResponse(409, 'The target column is at its WIP limit (WIP_LIMIT)')
  async move(
    @Tenant() tenant: TenantContext,
    @IdParam() id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Body() dto: MoveCardDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CardDto> {
    const card = await this.moves.move(tenant, id, ifMatch, dto);
    void reply.header('ETag', etagOf(card.version));
    return card;
  }

  @Delete('cards/:id')
  @HttpCode(204)
  @Authorize('delete', 'Card')
  @ApiOperation({ operationId: 'Cards_delete', summary: 'Delete a card (its creator, or a manager and up)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  async delete(@Tenant() tenant: TenantContext, @IdParam() id: string): Promise<void> {
    await this.cards.remove(tenant, id);
  }
}
