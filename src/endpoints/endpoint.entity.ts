import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

@Entity('endpoints')
export class Endpoint {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'project_id' })
  projectId!: string;

  @Column('text')
  name!: string;

  @Column('text')
  description!: string;

  @Column('text', { name: 'sticky_header', nullable: true })
  stickyHeader!: string | null;

  @Column('integer', { name: 'mirror_percent', nullable: true })
  mirrorPercent!: number | null;

  @Column('integer')
  generation!: number;

  @Column('text', { name: 'created_by' })
  createdBy!: string;

  @Column('text', { name: 'updated_by' })
  updatedBy!: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}

/** A weighted route (or the mirror route) of an endpoint: a fixed version or a live tag. */
@Entity('endpoint_routes')
export class EndpointRoute {
  @PrimaryColumn('uuid', { name: 'endpoint_id' })
  endpointId!: string;

  @PrimaryColumn('integer')
  position!: number;

  @Column('boolean')
  mirror!: boolean;

  @Column('text')
  ref!: string;

  @Column('integer')
  weight!: number;

  @Column('uuid', { name: 'model_id' })
  modelId!: string;

  @Column('uuid', { name: 'version_id', nullable: true })
  versionId!: string | null;

  @Column('text', { nullable: true })
  tag!: string | null;
}
