import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('projects')
export class Project {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  @Column('text')
  description!: string;

  @Column('jsonb')
  labels!: Record<string, string>;

  /** Storage quota in bytes, enforced by uploads; null is unlimited. Postgres bigint arrives as a string. */
  @Column('bigint', { name: 'storage_quota_bytes', nullable: true })
  storageQuotaBytes!: string | null;

  /** Recorded for the operator (a ResourceQuota in the namespace); null is unlimited. */
  @Column('bigint', { name: 'cpu_quota_millicores', nullable: true })
  cpuQuotaMillicores!: string | null;

  @Column('bigint', { name: 'memory_quota_bytes', nullable: true })
  memoryQuotaBytes!: string | null;

  @Column('integer', { name: 'gpu_quota', nullable: true })
  gpuQuota!: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
