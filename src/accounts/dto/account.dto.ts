import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { IsId } from '../../common/dto/uuid.js';

export class PlanLimitsDto {
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'Companies the account may own; null: unlimited',
  })
  maxCompanies: number | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Members per company; null: unlimited' })
  maxMembersPerCompany: number | null;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'Runs per calendar month (UTC) shared by all companies of the account; null: unlimited',
  })
  monthlyRunBudget: number | null;
}

/** One company of the account: directory metadata only. */
export class AccountCompanyDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty()
  slug: string;
}

export class AccountDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ example: 'free', description: 'Set by the operators’ CLI only' })
  plan: string;

  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The account owner' })
  ownerUserId: string | null;

  @ApiProperty({ type: PlanLimitsDto })
  limits: PlanLimitsDto;

  @ApiProperty({ type: [AccountCompanyDto], description: 'The companies of the account, oldest first' })
  companies: AccountCompanyDto[];

  @ApiProperty()
  createdAt: Date;
}

export class CreateAccountCompanyDto {
  @ApiProperty({ maxLength: 200, example: 'Acme Logistics' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;
}

export class TransferAccountOwnershipDto {
  @ApiProperty({ format: 'uuid', description: "A member of one of the account's companies" })
  @IsId({ message: 'userId must be a UUID' })
  userId: string;
}

export class CompanyUsageDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty()
  slug: string;

  @ApiProperty({ type: 'integer', description: 'Runs the company started this month (UTC)' })
  runsThisMonth: number;

  @ApiProperty({ type: 'integer' })
  members: number;
}

export class UsageTotalsDto {
  @ApiProperty({ type: 'integer' })
  companies: number;

  @ApiProperty({
    type: 'integer',
    description: "Runs the account's companies started this month: what the account budget counts",
  })
  runsThisMonth: number;

  @ApiProperty({ type: 'integer', description: 'Members of the largest company' })
  maxMembers: number;
}

export class AccountUsageDto {
  @ApiProperty({ format: 'uuid' })
  accountId: string;

  @ApiProperty({ example: 'free' })
  plan: string;

  @ApiProperty({ example: '2026-12', description: 'The calendar month (UTC) the run counts are of' })
  month: string;

  @ApiProperty({ type: [CompanyUsageDto] })
  companies: CompanyUsageDto[];

  @ApiProperty({ type: UsageTotalsDto })
  totals: UsageTotalsDto;

  @ApiProperty({ type: PlanLimitsDto, description: 'The plan limits the totals are held against' })
  limits: PlanLimitsDto;
}

export class AccountOwnerDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  ownerUserId: string;
}
