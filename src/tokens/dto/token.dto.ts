import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { ROLES, Role } from '../../auth/roles';

export class CreateTokenDto {
  @ApiProperty({ description: 'What the token is for', example: 'ci-pipeline' })
  @IsString()
  @Length(1, 128)
  name!: string;

  @ApiPropertyOptional({
    description: 'Create the token for another principal (platform admins only); created if missing',
    example: 'svc-trainer',
  })
  @IsOptional()
  @IsString()
  principal?: string;

  @ApiPropertyOptional({
    enum: ['user', 'service', 'node-agent'],
    description: 'Kind of a principal created by this call; `node-agent` principals may report nodes and read every project',
    default: 'user',
  })
  @IsOptional()
  @IsIn(['user', 'service', 'node-agent'])
  principalKind?: 'user' | 'service' | 'node-agent';

  @ApiPropertyOptional({ description: 'Limit the token to one project', example: 'vision' })
  @IsOptional()
  @IsString()
  project?: string;

  @ApiPropertyOptional({ enum: ROLES, description: 'Role ceiling: the token never acts above this role' })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ description: 'Expire after this many days', minimum: 1, maximum: 3650 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  expiresInDays?: number;

  @ApiPropertyOptional({ description: 'Expire at this instant (ISO 8601, in the future)', example: '2027-01-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;
}

export class ListTokensQuery {
  @ApiPropertyOptional({ description: "List another principal's tokens (platform admins only)" })
  @IsOptional()
  @IsString()
  principal?: string;

  @ApiPropertyOptional({ description: 'Include revoked and expired tokens', default: false })
  @IsOptional()
  @IsIn(['true', 'false'])
  all?: 'true' | 'false';

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  cursor?: string;
}

export class TokenDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'The public id at the start of the token (`wharf_<12 hex>`), no part of its secret, to tell tokens apart; ' +
      'null for the WHARF_ADMIN_TOKEN bootstrap token and tokens made before public ids',
    example: 'wharf_3f9c0a41b27e',
  })
  prefix!: string | null;

  @ApiProperty({ example: 'alice' })
  principal!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Project the token is limited to' })
  project!: string | null;

  @ApiProperty({ enum: ROLES, nullable: true, description: 'Role ceiling' })
  role!: Role | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expiresAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revokedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Last use, to the minute' })
  lastUsedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;
}

export class CreatedTokenDto extends TokenDto {
  @ApiProperty({ description: 'The token. Shown once: only its hash is stored.', example: 'wharf_…' })
  token!: string;
}

export class TokenPageDto {
  @ApiProperty({ type: [TokenDto] })
  items!: TokenDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}
