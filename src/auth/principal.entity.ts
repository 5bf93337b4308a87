import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** `node-agent` principals report for nodes and read every project's versions (see access.guard). */
export type PrincipalKind = 'user' | 'service' | 'node-agent';

@Entity('principals')
export class Principal {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  @Column('text')
  kind!: PrincipalKind;

  /** Platform admins hold the admin role in every project. */
  @Column('boolean', { name: 'platform_admin' })
  platformAdmin!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
