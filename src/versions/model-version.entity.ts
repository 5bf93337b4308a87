import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const VERSION_STATES = ['draft', 'ready', 'failed', 'archived'] as const;
export type VersionState = (typeof VERSION_STATES)[number];

@Entity('model_versions')
export class ModelVersion {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'model_id' })
  modelId!: string;

  @Column('integer')
  number!: number;

  @Column('text')
  state!: VersionState;

  @Column('text')
  description!: string;

  @Column('jsonb')
  metadata!: Record<string, unknown>;

  @Column('text', { name: 'manifest_digest', nullable: true })
  manifestDigest!: string | null;

  @Column('text', { name: 'created_by' })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'committed_at', nullable: true })
  committedAt!: Date | null;
}
