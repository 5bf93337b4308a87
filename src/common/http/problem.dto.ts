import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_CODES } from '../errors/error-codes';

export class FieldErrorDto {
  @ApiProperty({ example: 'labels.team' })
  field!: string;

  @ApiProperty({ example: 'a label value has at most 63 letters, digits, "-", "_" or "."' })
  message!: string;
}

/** RFC 9457 problem details, as every error of the API is answered. */
export class ProblemDto {
  @ApiProperty({ example: 'urn:wharf:problem:model_not_found' })
  type!: string;

  @ApiProperty({ example: 'Model not found' })
  title!: string;

  @ApiProperty({ example: 404 })
  status!: number;

  @ApiProperty({ example: 'No model "resnet" in project "vision"' })
  detail!: string;

  @ApiProperty({ enum: Object.keys(ERROR_CODES), description: 'Stable machine-readable code' })
  code!: string;

  @ApiPropertyOptional({ example: '/api/v1/projects/vision/models/resnet' })
  instance?: string;

  @ApiPropertyOptional({ description: 'The request id, also in the X-Request-Id header and the server log' })
  requestId?: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'One entry per bad field (validation errors)' })
  errors?: FieldErrorDto[];
}
