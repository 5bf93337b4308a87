import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { Principal } from '../auth/principal.entity';
import { Role } from '../auth/roles';

@Entity('project_members')
export class ProjectMember {
  @PrimaryColumn('uuid', { name: 'project_id' })
  projectId!: string;

  @PrimaryColumn('uuid', { name: 'principal_id' })
  principalId!: string;

  @ManyToOne(() => Principal, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'principal_id' })
  principal?: Principal;

  @Column('text')
  role!: Role;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
