import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';

const QUANTITY_EXAMPLES = 'A Kubernetes quantity string; null or absent means unlimited';

/** PUT replaces the whole quota: a field left out becomes unlimited. */
export class PutQuotaDto {
  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'integer' }],
    nullable: true,
    example: '500Gi',
    description: 'Storage, in bytes or as a quantity, enforced by uploads. Null or absent: the PROJECT_STORAGE_QUOTA default applies; 0: unlimited',
  })
  @IsOptional()
  storage?: string | number | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: '8', description: `CPU cores ("8", "500m"). ${QUANTITY_EXAMPLES}` })
  @IsOptional()
  cpu?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: '64Gi', description: `Memory. ${QUANTITY_EXAMPLES}` })
  @IsOptional()
  memory?: string | null;

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'integer' }], nullable: true, example: 2, description: 'GPUs (whole devices); null or absent means unlimited' })
  @IsOptional()
  gpu?: string | number | null;
}

export class QuotaDto {
  @ApiProperty({ example: 'vision' })
  project!: string;

  @ApiProperty({ type: Number, nullable: true, example: 536870912000, description: 'The project\'s own storage quota in bytes (null: PROJECT_STORAGE_QUOTA applies; 0: unlimited); GET …/storage shows use' })
  storageBytes!: number | null;

  @ApiProperty({ type: String, nullable: true, example: '500Gi' })
  storage!: string | null;

  @ApiProperty({ type: String, nullable: true, example: '8' })
  cpu!: string | null;

  @ApiProperty({ type: Number, nullable: true, example: 8000 })
  cpuMillicores!: number | null;

  @ApiProperty({ type: String, nullable: true, example: '64Gi' })
  memory!: string | null;

  @ApiProperty({ type: Number, nullable: true, example: 68719476736 })
  memoryBytes!: number | null;

  @ApiProperty({ type: Number, nullable: true, example: 2 })
  gpu!: number | null;
}
