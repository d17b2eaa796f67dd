import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authorize } from '../authz/authorize.decorator.js';
import { IdParam } from '../common/id-param.js';
import { PageDtoOf, type Page } from '../common/pagination.js';
import { CatalogQueryDto, TemplateDto, TemplateSummaryDto } from './dto/template.dto.js';
import { TemplatesService } from './templates.service.js';

const TemplatePage = PageDtoOf(TemplateSummaryDto, 'TemplatePage');

/** The governed catalog: read-only for every company (there are no write routes). */
@ApiTags('Templates')
@Controller('v1/templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @Get()
  @Authorize('read', 'Template')
  @ApiOperation({
    operationId: 'Templates_list',
    summary: 'The governed catalog, ordered by key; filter by category, search by name',
  })
  @ApiOkResponse({ type: TemplatePage })
  list(@Query() query: CatalogQueryDto): Page<TemplateSummaryDto> {
    return this.templates.list(query);
  }

  @Get(':id')
  @Authorize('read', 'Template')
  @ApiOperation({ operationId: 'Templates_get', summary: 'A catalog template with its whole definition' })
  @ApiOkResponse({ type: TemplateDto })
  get(@IdParam() id: string): TemplateDto {
    return this.templates.get(id);
  }
}
