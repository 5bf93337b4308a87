import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './cursor';

/** Query parameters shared by every paginated list. */
export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  cursor?: string;
}

/** Lists of named, labelled things: filter by name prefix and labels. */
export class NamedListQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Only names starting with this' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  prefix?: string;

  @ApiPropertyOptional({
    description: 'Label selector: `key=value` (must match) or `key` (must exist); repeat or comma-separate to AND them',
    type: [String],
    example: ['team=vision'],
  })
  @IsOptional()
  @IsString({ each: true })
  label?: string | string[];
}
