import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

/** API tokens and their principals: created, listed, revoked. Checking a token is auth's job. */
@Module({ imports: [AuthModule], controllers: [TokensController], providers: [TokensService] })
export class TokensModule {}
