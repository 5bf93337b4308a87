import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { TokenReviewController } from './token-review.controller';
import { TokenReviewService } from './token-review.service';

@Module({ imports: [AuthModule], controllers: [TokenReviewController], providers: [TokenReviewService] })
export class TokenReviewModule {}
