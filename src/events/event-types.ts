/**
 * The events a project's webhook subscriptions can receive. A name never changes meaning
 * once released; new events are added to the end.
 */
export const EVENT_TYPES = ['model.created', 'version.ready', 'tag.moved', 'tag.pinned', 'endpoint.updated'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What each event carries in `data` (references in Wharf's `project/model@n` form). */
export interface EventData {
  'model.created': { model: string; reference: string; createdBy: string };
  'version.ready': { model: string; version: number; reference: string; manifestDigest: string };
  'tag.moved': { model: string; tag: string; version: number; previousVersion: number | null; reason?: string | null };
  /** Sent on pin (and rollback, which pins) with `pinned: true`, and on unpin with `pinned: false`. */
  'tag.pinned': { model: string; tag: string; version: number; pinned: boolean };
  'endpoint.updated': { endpoint: string; routes: unknown; mirror?: unknown; stickyHeader?: string | null };
}

export interface WharfEvent<T extends EventType = EventType> {
  type: T;
  /** The project the event happened in; only its subscriptions receive it. */
  project: { id: string; name: string };
  /** Who caused it. */
  actor: string;
  data: EventData[T];
}

/** The JSON body a subscriber receives. */
export interface EventEnvelope {
  id: string;
  type: EventType;
  occurredAt: string;
  project: string;
  actor: string;
  data: Record<string, unknown>;
}
