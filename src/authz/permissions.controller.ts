import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ROLES, type Role } from './roles.js';
import { Authorize } from './authorize.decorator.js';
import { catalogue } from './permissions.js';

export class PermissionDto {
  @ApiProperty({ example: 'runs:verdict', maxLength: 100 })
  name: string;

  @ApiProperty({ maxLength: 500 })
  description: string;

  @ApiProperty({
    enum: ROLES,
    description: 'The least built-in role that holds it (every stronger role does too)',
  })
  role: Role;

  @ApiProperty({ description: 'Never grantable by a group (owner-only)' })
  ownerOnly: boolean;
}

export class PermissionListDto {
  @ApiProperty({ type: [PermissionDto], maxItems: 1000 })
  data: PermissionDto[];
}

@ApiTags('Permissions')
@Controller('v1/permissions')
export class PermissionsController {
  @Get()
  @Authorize('read', 'Permission')
  @ApiOperation({
    operationId: 'Permissions_list',
    summary:
      'The permission catalogue: each permission, its description and the least built-in role holding it',
  })
  @ApiOkResponse({ type: PermissionListDto })
  list(): PermissionListDto {
    return {
      data: catalogue().all.map((p) => ({
        name: p.name,
        description: p.description,
        role: p.role,
        ownerOnly: p.ownerOnly === true,
      })),
    };
  }
}
