import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { Optional } from '../../common/dto/optional.js';
import { MAX_USER_PATTERN_LENGTH } from '../../common/safe-regex.js';
import { DETECTORS, type Detector } from '../detectors.js';
import { DLP_ACTIONS, DLP_SCOPES, type DlpAction, type DlpScope } from '../dlp-scan.js';

/** Rules of one policy, custom ones included. */
export const MAX_DLP_RULES = 50;
/** Custom (pattern) rules of one policy (API.md). */
export const MAX_CUSTOM_RULES = 20;
/** Longest text `POST /v1/dlp-policy/test` scans (characters). */
export const MAX_TEST_TEXT = 1024 * 1024;

export class DlpRuleDto {
  @ApiProperty({ enum: DETECTORS, example: 'credit_card' })
  @IsIn(DETECTORS)
  detector: Detector;

  @ApiProperty({
    enum: DLP_ACTIONS,
    description:
      '`block`: refuse with 422 DLP_BLOCKED; `redact`: replace each match with `[REDACTED:<detector>]`; `audit`: keep it and record `dlp.detected`',
  })
  @IsIn(DLP_ACTIONS)
  action: DlpAction;

  @ApiPropertyOptional({
    enum: DLP_SCOPES,
    isArray: true,
    description: 'Where the rule applies; absent: everywhere',
  })
  @Optional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(DLP_SCOPES, { each: true })
  scopes?: DlpScope[];

  @ApiPropertyOptional({
    maxLength: MAX_USER_PATTERN_LENGTH,
    description:
      'The `custom` detector’s regular expression (ECMAScript syntax, run on a linear-time engine: no look-around or back-references); only with `custom`',
    example: 'ACME-\\d{6}',
  })
  @Optional()
  @IsString()
  @MaxLength(MAX_USER_PATTERN_LENGTH)
  pattern?: string;
}

export class PutDlpPolicyDto {
  @ApiProperty({ type: [DlpRuleDto], maxItems: MAX_DLP_RULES })
  @IsArray()
  @ArrayMaxSize(MAX_DLP_RULES)
  @ValidateNested({ each: true })
  @Type(() => DlpRuleDto)
  rules: DlpRuleDto[];
}

export class DlpPolicyDto {
  @ApiProperty({ type: [DlpRuleDto] })
  rules: DlpRuleDto[];

  @ApiProperty({ description: 'Counts the changes; 0 while the company has never set a policy' })
  version: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  updatedAt: string | null;
}

export class DlpTestDto {
  @ApiProperty({ maxLength: MAX_TEST_TEXT, description: 'Text to scan with the policy’s rules (all scopes)' })
  @IsString()
  @MaxLength(MAX_TEST_TEXT)
  text: string;
}

export class DlpFindingDto {
  @ApiProperty({ enum: DETECTORS })
  detector: Detector;

  @ApiProperty({ description: 'Offset of the first UTF-16 code unit of the match' })
  start: number;

  @ApiProperty({ description: 'Offset just past the match (UTF-16 code units)' })
  end: number;
}

export class DlpTestResultDto {
  @ApiProperty({ type: [DlpFindingDto], description: 'Offsets only: the matched text is never echoed' })
  findings: DlpFindingDto[];

  @ApiProperty({
    description:
      'True when there were more than the 1,000 findings listed (the first ones by offset are listed)',
  })
  truncated: boolean;
}
