import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authorize, ProblemResponse } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { DlpService } from './dlp.service.js';
import { DlpPolicyDto, DlpTestDto, DlpTestResultDto, PutDlpPolicyDto } from './dto/dlp.dto.js';

@ApiTags('DLP')
@Controller('v1/dlp-policy')
export class DlpController {
  constructor(private readonly dlp: DlpService) {}

  @Get()
  @Authorize('read', 'DlpPolicy')
  @ApiOperation({
    operationId: 'Dlp_getPolicy',
    summary: "The company's data-loss-prevention rules (no rules until an admin sets them)",
  })
  @ApiOkResponse({ type: DlpPolicyDto })
  get(): Promise<DlpPolicyDto> {
    return this.dlp.get();
  }

  @Put()
  @Authorize('update', 'DlpPolicy')
  @ApiOperation({
    operationId: 'Dlp_putPolicy',
    summary: 'Replace the rules (admin); a custom pattern must run on the linear-time engine (400 naming it)',
  })
  @ApiOkResponse({ type: DlpPolicyDto })
  put(@Tenant() tenant: TenantContext, @Body() dto: PutDlpPolicyDto): Promise<DlpPolicyDto> {
    return this.dlp.put(tenant, dto);
  }

  @Post('test')
  @HttpCode(200)
  @Authorize('read', 'DlpPolicy')
  @ApiOperation({
    operationId: 'Dlp_test',
    summary: 'What the rules find in a text: detector and offsets of each finding, never the text',
  })
  @ApiOkResponse({ type: DlpTestResultDto })
  @ProblemResponse(400, 'text is missing or too long (VALIDATION_FAILED)')
  test(@Body() dto: DlpTestDto): Promise<DlpTestResultDto> {
    return this.dlp.test(dto);
  }
}
