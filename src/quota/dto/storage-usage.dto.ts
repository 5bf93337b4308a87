import { ApiProperty } from '@nestjs/swagger';

export class ProjectStorageDto {
  @ApiProperty({ example: 'vision' })
  project!: string;

  @ApiProperty({ example: 107374182400, description: 'The quota in force in bytes; 0 means unlimited' })
  quotaBytes!: number;

  @ApiProperty({ enum: ['project', 'default'], description: '`default`: PROJECT_STORAGE_QUOTA applies' })
  quotaSource!: 'project' | 'default';

  @ApiProperty({ description: 'Bytes of the blobs the project holds (each digest once)' })
  usedBytes!: number;

  @ApiProperty({ description: 'Bytes reserved by uploads in progress' })
  pendingUploadBytes!: number;
}
