import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `api_tokens.token_prefix` held the first 12 characters of each token, secret characters
 * included (all of them the operator's own WHARF_ADMIN_TOKEN's). Generated tokens now start
 * with a public id, and only that is kept; every older row loses its prefix, as no part of an
 * older token is public. The tokens themselves keep working: they are checked by sha256.
 */
export class TokenPublicIds1764372120000 implements MigrationInterface {
  name = 'TokenPublicIds1764372120000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE api_tokens ALTER COLUMN token_prefix DROP NOT NULL`);
    await queryRunner.query(`UPDATE api_tokens SET token_prefix = NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // The erased prefixes are gone for good (that is the point); the old schema gets a placeholder.
    await queryRunner.query(`UPDATE api_tokens SET token_prefix = 'wharf_' WHERE token_prefix IS NULL`);
    await queryRunner.query(`ALTER TABLE api_tokens ALTER COLUMN token_prefix SET NOT NULL`);
  }
}
