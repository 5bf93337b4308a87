import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('tags')
export class Tag {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'model_id' })
  modelId!: string;

  @Column('text')
  name!: string;

  @Column('uuid', { name: 'version_id' })
  versionId!: string;

  @Column('boolean')
  pinned!: boolean;

  @Column('text', { name: 'pinned_by', nullable: true })
  pinnedBy!: string | null;

  @Column('timestamptz', { name: 'pinned_at', nullable: true })
  pinnedAt!: Date | null;

  @Column('text', { name: 'updated_by' })
  updatedBy!: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}

export const TAG_ACTIONS = ['move', 'follow', 'pin', 'unpin', 'rollback', 'delete'] as const;
export type TagAction = (typeof TAG_ACTIONS)[number];

/** One change of a tag; the table is append-only (a trigger refuses updates). */
@Entity('tag_history')
export class TagHistoryEntry {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column('uuid', { name: 'model_id' })
  modelId!: string;

  @Column('text')
  tag!: string;

  @Column('integer')
  seq!: number;

  @Column('text')
  action!: TagAction;

  @Column('integer', { name: 'from_version', nullable: true })
  fromVersion!: number | null;

  @Column('integer', { name: 'to_version', nullable: true })
  toVersion!: number | null;

  @Column('text')
  actor!: string;

  @Column('text')
  reason!: string;

  @Column('timestamptz', { name: 'occurred_at' })
  occurredAt!: Date;
}
