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
import { BoardsService } from './boards.service.js';
import {
  BoardDto,
  ColumnDto,
  CreateBoardDto,
  CreateColumnDto,
  UpdateBoardDto,
  UpdateColumnDto,
} from './dto/board.dto.js';

const BoardPage = PageDtoOf(BoardDto, 'BoardPage');

@ApiTags('Boards')
@Controller('v1/boards')
export class BoardsController {
  constructor(private readonly boards: BoardsService) {}

  @Get()
  @Authorize('read', 'Board')
  @ApiOperation({
    operationId: 'Boards_list',
    summary: "The company's boards with their columns, newest first",
  })
  @ApiOkResponse({ type: BoardPage })
  list(@Query() query: PageQueryDto): Promise<Page<BoardDto>> {
    return this.boards.list(query);
  }

  @Post()
  @Authorize('create', 'Board')
  @ApiOperation({
    operationId: 'Boards_create',
    summary: 'Create a board (manager and up); columns `To do`, `Doing`, `Done` unless `columns` is given',
  })
  @ApiCreatedResponse({ type: BoardDto })
  create(@Tenant() tenant: TenantContext, @Body() dto: CreateBoardDto): Promise<BoardDto> {
    return this.boards.create(tenant, dto);
  }

  @Get(':id')
  @Authorize('read', 'Board')
  @ApiOperation({ operationId: 'Boards_get', summary: 'A board with its columns in order' })
  @ApiOkResponse({ type: BoardDto })
  get(@IdParam() id: string): Promise<BoardDto> {
    return this.boards.get(id);
  }

  @Patch(':id')
  @Authorize('update', 'Board')
  @ApiOperation({
    operationId: 'Boards_update',
    summary: 'Rename a board or change its description (manager and up)',
  })
  @ApiOkResponse({ type: BoardDto })
  update(@IdParam() id: string, @Body() dto: UpdateBoardDto): Promise<BoardDto> {
    return this.boards.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authorize('delete', 'Board')
  @ApiOperation({
    operationId: 'Boards_delete',
    summary: 'Delete a board with its columns and cards (manager and up)',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  async delete(@IdParam() id: string): Promise<void> {
    await this.boards.remove(id);
  }

  @Post(':id/columns')
  @Authorize('update', 'Board')
  @ApiOperation({
    operationId: 'Boards_createColumn',
    summary: 'Add a column (manager and up): after `afterColumnId`, first when `null`, last when absent',
  })
  @ApiCreatedResponse({ type: ColumnDto })
  createColumn(@IdParam() id: string, @Body() dto: CreateColumnDto): Promise<ColumnDto> {
    return this.boards.addColumn(id, dto);
  }

  @Patch(':id/columns/:columnId')
  @Authorize('update', 'Board')
  @ApiOperation({
    operationId: 'Boards_updateColumn',
    summary:
      'Rename a column, move it (`afterColumnId`, `null` = first) or set its WIP limit (manager and up)',
  })
  @ApiOkResponse({ type: ColumnDto })
  updateColumn(
    @IdParam() id: string,
    @IdParam('columnId') columnId: string,
    @Body() dto: UpdateColumnDto,
  ): Promise<ColumnDto> {
    return this.boards.updateColumn(id, columnId, dto);
  }

  @Delete(':id/columns/:columnId')
  @HttpCode(204)
  @Authorize('update', 'Board')
  @ApiOperation({ operationId: 'Boards_deleteColumn', summary: 'Delete an empty column (manager and up)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ProblemResponse(409, 'The column still holds cards (CONFLICT)')
  async deleteColumn(@IdParam() id: string, @IdParam('columnId') columnId: string): Promise<void> {
    await this.boards.removeColumn(id, columnId);
  }
}
