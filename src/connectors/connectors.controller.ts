import { CallsOut } from '../tenancy/write-slots.js';
import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Authorize, ProblemResponse } from '../authz/authorize.decorator.js';
import { IdParam } from '../common/id-param.js';
import { PageDtoOf, type Page } from '../common/pagination.js';
import { ConnectorsService } from './connectors.service.js';
import {
  ConnectorDto,
  ConnectorTestResultDto,
  CreateConnectorDto,
  ListConnectorsQueryDto,
  TestConnectorDto,
  UpdateConnectorDto,
} from './dto/connectors.dto.js';

const ConnectorPage = PageDtoOf(ConnectorDto, 'ConnectorPage');

/** Routes that decrypt or seal a secret: the company's data key may be wrapped by another master key. */
const SECRET_UNAVAILABLE =
  'The connector secret cannot be sealed or decrypted right now, e.g. the server holds another master key ' +
  'than the one in use (INTERNAL, a server fault); see Retry-After';

@ApiTags('Connectors')
@Controller('v1/connectors')
export class ConnectorsController {
  constructor(private readonly connectors: ConnectorsService) {}

  @Get()
  @Authorize('read', 'Connector')
  @ApiOperation({
    operationId: 'Connectors_list',
    summary: "The company's connectors, newest first (secrets never included)",
  })
  @ApiOkResponse({ type: ConnectorPage })
  list(@Query() query: ListConnectorsQueryDto): Promise<Page<ConnectorDto>> {
    return this.connectors.list(query);
  }

  @Post()
  @Authorize('create', 'Connector')
  @ApiOperation({
    operationId: 'Connectors_create',
    summary: 'Bind a tool id to an endpoint, an auth scheme and an optional write-only secret (admin)',
  })
  @ApiCreatedResponse({ type: ConnectorDto })
  @ProblemResponse(409, 'The tool id is already bound in this company (CONFLICT)')
  @ProblemResponse(503, SECRET_UNAVAILABLE)
  create(@Body() dto: CreateConnectorDto): Promise<ConnectorDto> {
    return this.connectors.create(dto);
  }

  @Get(':id')
  @Authorize('read', 'Connector')
  @ApiOperation({ operationId: 'Connectors_get', summary: 'One connector (the secret only as hasSecret)' })
  @ApiOkResponse({ type: ConnectorDto })
  get(@IdParam() id: string): Promise<ConnectorDto> {
    return this.connectors.get(id);
  }

  @Patch(':id')
  @Authorize('update', 'Connector')
  @ApiOperation({
    operationId: 'Connectors_update',
    summary:
      'Change fields; secret: a string sets it, null clears it, absent keeps it. A new endpoint origin needs the secret again (admin)',
  })
  @ApiOkResponse({ type: ConnectorDto })
  @ProblemResponse(409, 'The tool id is already bound in this company (CONFLICT)')
  @ProblemResponse(503, SECRET_UNAVAILABLE)
  update(@IdParam() id: string, @Body() dto: UpdateConnectorDto): Promise<ConnectorDto> {
    return this.connectors.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authorize('delete', 'Connector')
  @ApiOperation({ operationId: 'Connectors_delete', summary: 'Delete a connector and its secret (admin)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  async remove(@IdParam() id: string): Promise<void> {
    await this.connectors.remove(id);
  }

  @Post(':id/test')
  @HttpCode(200)
  @Authorize('test', 'Connector')
  @CallsOut()
  @ApiOperation({
    operationId: 'Connectors_test',
    summary:
      'POST input (default {"ping": true}) to the endpoint once; 200 with the outcome, also when the call failed or the address was refused (admin)',
  })
  @ApiOkResponse({ type: ConnectorTestResultDto })
  @ProblemResponse(503, SECRET_UNAVAILABLE)
  test(@IdParam() id: string, @Body() dto: TestConnectorDto): Promise<ConnectorTestResultDto> {
    return this.connectors.test(id, dto.input);
  }
}
