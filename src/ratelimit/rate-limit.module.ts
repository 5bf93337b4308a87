import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FAILURE_BUDGETS } from '../auth/failure-budget';
import { AuthFailureLimiter } from './auth-failures';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimiter } from './rate-limiter';

/** Imported before AuthModule: global guards run in registration order, and limits go first. */
@Global()
@Module({
  providers: [
    RateLimiter,
    AuthFailureLimiter,
    { provide: FAILURE_BUDGETS, useExisting: AuthFailureLimiter },
    { provide: APP_GUARD, useClass: RateLimitGuard },
  ],
  exports: [RateLimiter, AuthFailureLimiter, FAILURE_BUDGETS],
})
export class RateLimitModule {}
