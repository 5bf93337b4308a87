import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { NamedListQuery } from '../../common/pagination/list-query.dto';
import { DescriptionAndLabelsDto } from '../../common/dto/described.dto';

export class CreateModelDto extends DescriptionAndLabelsDto {
  @ApiProperty({
    description: 'Lowercase letters and digits separated by single ".", "_" or "-"; at most 128 characters',
    example: 'resnet50',
  })
  @IsString()
  name!: string;
}

export class UpdateModelDto extends DescriptionAndLabelsDto {}

export class ListModelsQuery extends NamedListQuery {
  @ApiPropertyOptional({
    enum: ['name', '-name', 'createdAt', '-createdAt', 'updatedAt', '-updatedAt'],
    default: 'name',
  })
  @IsOptional()
  @IsString()
  sort?: string;
}

export class ModelDto {
  @ApiProperty({ example: 'vision' })
  project!: string;

  @ApiProperty({ example: 'resnet50' })
  name!: string;

  @ApiProperty()
  description!: string;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  labels!: Record<string, string>;

  @ApiProperty({ description: 'Versions created so far (the last number handed out)' })
  versionCount!: number;

  @ApiProperty({ example: 'alice' })
  createdBy!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'Changes to the model or a new version' })
  updatedAt!: string;
}

export class ModelPageDto {
  @ApiProperty({ type: [ModelDto] })
  items!: ModelDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}
