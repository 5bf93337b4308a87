import { Global, Module } from '@nestjs/common';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { EventsService } from './events.service';
import { SECRET_BOX } from './events.tokens';
import { SecretBox } from './secret-box';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionsService } from './subscriptions.service';
import { WebhookDispatcher } from './webhook-dispatcher';

/** Global so any service can `emit` an event in its own transaction. */
@Global()
@Module({
  controllers: [SubscriptionsController],
  providers: [
    EventsService,
    SubscriptionsService,
    WebhookDispatcher,
    { provide: SECRET_BOX, inject: [WHARF_CONFIG], useFactory: (config: WharfConfig) => new SecretBox(config.WEBHOOK_SECRET_KEY) },
  ],
  exports: [EventsService],
})
export class EventsModule {}
