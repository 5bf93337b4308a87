import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { EventEnvelope, EventType, WharfEvent } from './event-types';

/**
 * Puts an event in the outbox: one pending delivery per subscription of the project that
 * wants this event type, inserted with the caller's EntityManager so the delivery exists
 * exactly when the change commits. Delivery happens later, off the request (the dispatcher).
 */
@Injectable()
export class EventsService {
  async emit<T extends EventType>(manager: EntityManager, event: WharfEvent<T>): Promise<void> {
    const envelope: EventEnvelope = {
      id: randomUUID(),
      type: event.type,
      occurredAt: new Date().toISOString(),
      project: event.project.name,
      actor: event.actor,
      data: event.data as unknown as Record<string, unknown>,
    };
    await manager.query(
      `INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, payload)
       SELECT id, $3, $2, $4 FROM webhook_subscriptions WHERE project_id = $1 AND $2 = ANY (events)`,
      [event.project.id, event.type, envelope.id, envelope],
    );
  }
}
