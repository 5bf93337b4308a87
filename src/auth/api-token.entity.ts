import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Role } from './roles';
import { Principal } from './principal.entity';

@Entity('api_tokens')
export class ApiToken {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'principal_id' })
  principalId!: string;

  @ManyToOne(() => Principal, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'principal_id' })
  principal?: Principal;

  @Column('text')
  name!: string;

  /** sha256 of the whole token; the token itself is never stored. */
  @Column('text', { name: 'secret_sha256', select: false })
  secretSha256!: string;

  /**
   * `wharf_<public id>`, the non-secret start of a generated token, to tell tokens apart in
   * listings. Null for a token with no public part: WHARF_ADMIN_TOKEN (chosen by the operator,
   * none of it is stored) and tokens made before public ids existed.
   */
  @Column('text', { name: 'token_prefix', nullable: true })
  tokenPrefix!: string | null;

  @Column('uuid', { name: 'project_id', nullable: true })
  projectId!: string | null;

  @Column('text', { name: 'role_ceiling', nullable: true })
  roleCeiling!: Role | null;

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expiresAt!: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;

  @Column('uuid', { name: 'created_by', nullable: true })
  createdBy!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
