import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/pagination/list-query.dto';

export class ListAuditQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Only events of this project', example: 'vision' })
  @IsOptional()
  @IsString()
  project?: string;

  @ApiPropertyOptional({ description: 'Only events by this principal (`system` for the registry itself)', example: 'alice' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  actor?: string;

  @ApiPropertyOptional({ description: 'An action (`model.create`) or a prefix ending in `*` (`model.*`)', example: 'version.*' })
  @IsOptional()
  @Matches(/^[a-z][a-z0-9_.-]{0,127}\*?$/, { message: 'action must be like "model.create" or "model.*"' })
  action?: string;

  @ApiPropertyOptional({ description: 'Only events at or after this instant (ISO 8601)', example: '2026-11-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional({ description: 'Only events before this instant (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;
}

export class AuditEventDto {
  @ApiProperty({ example: '1042', description: 'Increasing id; newer events have larger ids' })
  id!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  occurredAt!: string;

  @ApiProperty({ example: 'alice' })
  actor!: string;

  @ApiProperty({ type: String, nullable: true, example: 'vision' })
  project!: string | null;

  @ApiProperty({ example: 'model.create' })
  action!: string;

  @ApiProperty({ example: 'vision/resnet' })
  target!: string;

  @ApiProperty({ type: 'object', additionalProperties: true })
  details!: Record<string, unknown>;

  @ApiProperty({ type: String, nullable: true })
  requestId!: string | null;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEventDto], description: 'Newest first' })
  items!: AuditEventDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}
