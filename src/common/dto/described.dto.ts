import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsLabels } from '../validation/labels';

export const MAX_DESCRIPTION_LENGTH = 4096;

/** The description and labels that projects and models share; also their update body. */
export class DescriptionAndLabelsDto {
  @ApiPropertyOptional({ maxLength: MAX_DESCRIPTION_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DESCRIPTION_LENGTH)
  description?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'Kubernetes-style labels; on update, replaces all labels',
    example: { team: 'perception' },
  })
  @IsOptional()
  @IsLabels()
  labels?: Record<string, string>;
}
