import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Authorize, ProblemResponse, Public } from '../authz/authorize.decorator.js';
import { Tenant } from '../authz/tenant.decorator.js';
import type { TenantContext } from '../tenancy/request-store.js';
import { AuthService } from './auth.service.js';
import {
  LoginDto,
  LogoutDto,
  MeDto,
  RefreshDto,
  RegisterDto,
  SessionDto,
  SwitchCompanyDto,
  TokenPairDto,
} from './dto/auth.dto.js';

@ApiTags('Auth')
@Controller('v1')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('auth/register')
  @Public()
  @ApiOperation({
    operationId: 'Auth_register',
    summary:
      'Create an account, a new company (slug derived from its name) with the caller as owner, and a session',
  })
  @ApiCreatedResponse({ type: SessionDto })
  @ProblemResponse(409, 'An account with this email exists (CONFLICT)')
  register(@Body() dto: RegisterDto): Promise<SessionDto> {
    return this.auth.register(dto);
  }

  @Post('auth/login')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    operationId: 'Auth_login',
    summary: "Sign in to a company (by slug, else the user's first); any failure is the same 401",
  })
  @ApiOkResponse({ type: SessionDto })
  @ProblemResponse(401, 'Invalid email, password or company (UNAUTHENTICATED)')
  login(@Body() dto: LoginDto): Promise<SessionDto> {
    return this.auth.login(dto);
  }

  @Post('auth/refresh')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    operationId: 'Auth_refresh',
    summary: 'Rotate a refresh token; presenting a spent one revokes its whole family',
  })
  @ApiOkResponse({ type: TokenPairDto })
  @ProblemResponse(401, 'Invalid, expired, revoked or reused refresh token (UNAUTHENTICATED)')
  refresh(@Body() dto: RefreshDto): Promise<TokenPairDto> {
    return this.auth.refresh(dto.refreshToken);
  }

  @Post('auth/logout')
  @HttpCode(204)
  @Authorize('delete', 'Session', { principals: ['user'] })
  @ApiOperation({
    operationId: 'Auth_logout',
    summary: "Revoke a refresh family of the caller (the given token's, else the current session's)",
  })
  @ApiNoContentResponse({ description: 'Revoked' })
  async logout(@Tenant() tenant: TenantContext, @Body() dto: LogoutDto): Promise<void> {
    await this.auth.logout(tenant, dto.refreshToken);
  }

  @Post('auth/switch-company')
  @HttpCode(200)
  @Authorize('read', 'Session', { principals: ['user'] })
  @ApiOperation({
    operationId: 'Auth_switchCompany',
    summary: 'Tokens for another company the user belongs to; 404 when they do not',
  })
  @ApiOkResponse({ type: SessionDto })
  switchCompany(@Tenant() tenant: TenantContext, @Body() dto: SwitchCompanyDto): Promise<SessionDto> {
    return this.auth.switchCompany(tenant, dto.companyId);
  }

  @Get('me')
  @Authorize('read', 'Session')
  @ApiOperation({ operationId: 'Me_get', summary: 'The caller: user, active company, role and memberships' })
  @ApiOkResponse({ type: MeDto })
  me(@Tenant() tenant: TenantContext): Promise<MeDto> {
    return this.auth.me(tenant);
  }
}
