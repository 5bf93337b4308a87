import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { NamedListQuery } from '../../common/pagination/list-query.dto';
import { DescriptionAndLabelsDto } from '../../common/dto/described.dto';
import { ROLES, Role } from '../../auth/roles';

export class CreateProjectDto extends DescriptionAndLabelsDto {
  @ApiProperty({ description: 'DNS-1123 label; also the Kubernetes namespace', example: 'vision', maxLength: 63 })
  @IsString()
  name!: string;
}

export class UpdateProjectDto extends DescriptionAndLabelsDto {}

export class ListProjectsQuery extends NamedListQuery {
  @ApiPropertyOptional({ enum: ['name', '-name', 'createdAt', '-createdAt'], default: 'name' })
  @IsOptional()
  @IsString()
  sort?: string;
}

export class ProjectDto {
  @ApiProperty({ example: 'vision' })
  name!: string;

  @ApiProperty()
  description!: string;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  labels!: Record<string, string>;

  @ApiProperty({ enum: ROLES, description: "The caller's effective role in the project" })
  role!: Role;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}

export class ProjectPageDto {
  @ApiProperty({ type: [ProjectDto] })
  items!: ProjectDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class PutMemberDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;
}

export class MemberDto {
  @ApiProperty({ example: 'alice' })
  principal!: string;

  @ApiProperty({ enum: ['user', 'service'] })
  kind!: string;

  @ApiProperty({ enum: ROLES })
  role!: Role;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}

export class MemberListDto {
  @ApiProperty({ type: [MemberDto] })
  items!: MemberDto[];
}
