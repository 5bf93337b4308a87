import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { signatureHeader } from '../../src/events/signature';
import type { ExecutorMetrics } from '../metrics';
import type { Job, JobStore } from './jobs';

export interface CallbackOptions {
  secret?: string;
  maxAttempts: number;
  timeoutMs: number;
}

/** What a callback receiver gets: the job's final status, and a small result inline. */
export function callbackPayload(job: Job): Record<string, unknown> {
  return {
    id: job.id,
    status: job.state,
    statusUrl: `/v1/async/${job.id}`,
    attempts: job.attempts,
    ...(job.error ? { error: job.error } : {}),
    ...(job.resultStatus !== undefined
      ? {
          result: {
            status: job.resultStatus,
            contentType: job.resultContentType ?? null,
            size: job.resultSize ?? 0,
            url: `/v1/async/${job.id}/result`,
            ...(job.resultBody ? { bodyBase64: job.resultBody.toString('base64') } : {}),
          },
        }
      : {}),
  };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Delivers callbacks owed (one message each in the callbacks queue): POST with the payload,
 * signed as the registry's webhooks are (`Wharf-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")`),
 * retried with exponential backoff (0.5 s, 1 s, 2 s … up to 60 s) while the receiver answers
 * non-2xx or not at all. The message is acked only once delivered or given up, so a callback
 * owed by an executor that dies is delivered by another.
 */
export class CallbackSender {
  constructor(
    private readonly jobs: JobStore,
    private readonly options: CallbackOptions,
    private readonly metrics: ExecutorMetrics,
    private readonly logger: Logger,
  ) {}

  async onMessage(message: ConsumeMessage, channel: Channel): Promise<void> {
    const id = message.properties.messageId as string | undefined;
    const job = id ? await this.jobs.get(id) : null;
    if (!job?.callbackUrl || job.callbackState === 'delivered' || job.callbackState === 'abandoned') {
      safely(() => channel.ack(message));
      return;
    }
    const body = JSON.stringify(callbackPayload(job));
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt += 1) {
      const outcome = await this.post(job, body, attempt);
      if (outcome === true) {
        this.metrics.callbacks.inc({ outcome: 'delivered' });
        await this.jobs.setCallbackState(job.id, 'delivered');
        safely(() => channel.ack(message));
        return;
      }
      this.logger.warn({ id: job.id, attempt, error: outcome }, 'callback not delivered');
      if (attempt < this.options.maxAttempts) {
        this.metrics.callbacks.inc({ outcome: 'retried' });
        await delay(Math.min(60_000, 500 * 2 ** (attempt - 1)));
      }
    }
    this.metrics.callbacks.inc({ outcome: 'abandoned' });
    await this.jobs.setCallbackState(job.id, 'abandoned');
    safely(() => channel.ack(message));
  }

  private async post(job: Job, body: string, attempt: number): Promise<true | string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'wharf-event': 'async.completed',
      'wharf-delivery': job.id,
      'wharf-attempt': String(attempt),
    };
    if (this.options.secret) headers['wharf-signature'] = signatureHeader(this.options.secret, Math.floor(Date.now() / 1000), body);
    try {
      const response = await fetch(job.callbackUrl!, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.options.timeoutMs), redirect: 'manual' });
      await response.body?.cancel();
      return response.status >= 200 && response.status < 300 ? true : `HTTP ${response.status}`;
    } catch (error) {
      return (error as Error).message;
    }
  }
}

/** Acks on a channel that closed meanwhile throw; the broker redelivers then, which is safe. */
export function safely(action: () => void): void {
  try {
    action();
  } catch {
    // channel closed: the message comes back to another consumer
  }
}
