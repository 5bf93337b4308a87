import amqp, { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { Logger } from 'pino';
import { ExecutorError } from '../problems';
import type { Topology } from './topology';

export interface Consumer {
  queue: string;
  prefetch: number;
  onMessage(message: ConsumeMessage, channel: Channel): Promise<void>;
}

/**
 * One connection to RabbitMQ that comes back by itself: when the broker restarts or the network
 * drops, it reconnects with backoff, declares the topology again and resumes every consumer.
 * Publishing waits for the broker's confirm, so a 202 is only sent for a message RabbitMQ has
 * written to its quorum log; while disconnected, publishing fails at once (the caller answers
 * 503 and the client retries) rather than queueing messages in this process's memory.
 */
export class Broker {
  private connection?: ChannelModel;
  private publisher?: ConfirmChannel;
  private inspector?: Channel;
  private readonly consumers: Consumer[] = [];
  private readonly consumerChannels: Channel[] = [];
  private closing = false;
  private connecting?: Promise<void>;
  private attempt = 0;

  constructor(
    private readonly url: string,
    private readonly topology: Topology,
    private readonly logger: Logger,
  ) {}

  get connected(): boolean {
    return Boolean(this.publisher);
  }

  /** Resolves once connected the first time (retrying meanwhile). */
  start(): Promise<void> {
    return (this.connecting ??= this.connectLoop());
  }

  consume(consumer: Consumer): void {
    this.consumers.push(consumer);
    if (this.connection) void this.startConsumer(this.connection, consumer).catch((error: unknown) => this.logger.warn({ err: error }, 'consumer failed to start'));
  }

  /** Stops taking new messages; messages already delivered are still acked by their handlers. */
  async stopConsuming(): Promise<void> {
    this.consumers.length = 0;
    await Promise.all(
      this.consumerChannels.map(async (channel) => {
        const tags = (channel as Channel & { consumerTags?: string[] }).consumerTags ?? [];
        for (const tag of tags) await channel.cancel(tag).catch(() => undefined);
      }),
    );
  }

  async publish(queue: string, content: Buffer, options: Options.Publish): Promise<void> {
    const channel = this.publisher;
    if (!channel) throw new ExecutorError('queue_unavailable', 'The async queue is reconnecting; retry shortly', { 'retry-after': '1' });
    await new Promise<void>((resolve, reject) => {
      channel.sendToQueue(queue, content, { persistent: true, mandatory: true, ...options }, (error: unknown) =>
        error ? reject(new ExecutorError('queue_unavailable', 'RabbitMQ did not confirm the message; it was not accepted', { 'retry-after': '1' })) : resolve(),
      );
    });
  }

  /** Messages ready in a queue (not delivered to a consumer); undefined while disconnected. */
  async depth(queue: string): Promise<number | undefined> {
    if (!this.inspector) return undefined;
    return (await this.inspector.checkQueue(queue)).messageCount;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.connection?.close().catch(() => undefined);
  }

  private async connectLoop(): Promise<void> {
    while (!this.closing) {
      try {
        await this.connect();
        this.attempt = 0;
        return;
      } catch (error) {
        this.attempt += 1;
        const delay = Math.min(5000, 100 * 2 ** Math.min(this.attempt, 6));
        this.logger.warn({ err: (error as Error).message, retryInMs: delay }, 'cannot connect to RabbitMQ');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async connect(): Promise<void> {
    const connection = await amqp.connect(this.url, { timeout: 5000 });
    connection.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'RabbitMQ connection error'));
    connection.on('close', () => this.onLost(connection));
    try {
      const setup = await connection.createChannel();
      await this.declare(setup);
      await setup.close();
      const publisher = await connection.createConfirmChannel();
      publisher.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'publisher channel error'));
      publisher.on('return', (message) => this.logger.error({ messageId: message.properties.messageId }, 'a message was returned unroutable'));
      const inspector = await connection.createChannel();
      inspector.on('error', () => undefined);
      this.connection = connection;
      this.publisher = publisher;
      this.inspector = inspector;
      for (const consumer of this.consumers) await this.startConsumer(connection, consumer);
      this.logger.info('connected to RabbitMQ');
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  private async declare(channel: Channel): Promise<void> {
    const t = this.topology;
    await channel.assertExchange(t.deadExchange, 'fanout', { durable: true });
    await channel.assertQueue(t.requests, { durable: true, arguments: t.requestArguments });
    for (const queue of [t.deadLetters, t.deadEvents, t.callbacks]) await channel.assertQueue(queue, { durable: true, arguments: t.quorumArguments });
    await channel.bindQueue(t.deadLetters, t.deadExchange, '');
    await channel.bindQueue(t.deadEvents, t.deadExchange, '');
  }

  private async startConsumer(connection: ChannelModel, consumer: Consumer): Promise<void> {
    const channel = await connection.createChannel();
    channel.on('error', (error: Error) => this.logger.warn({ err: error.message, queue: consumer.queue }, 'consumer channel error'));
    await channel.prefetch(consumer.prefetch);
    const tags: string[] = [];
    (channel as Channel & { consumerTags?: string[] }).consumerTags = tags;
    this.consumerChannels.push(channel);
    const reply = await channel.consume(consumer.queue, (message) => {
      if (!message) return; // cancelled by the broker (queue deleted): the reconnect declares it again
      consumer.onMessage(message, channel).catch((error: unknown) => this.logger.error({ err: error, queue: consumer.queue }, 'message handler failed'));
    });
    tags.push(reply.consumerTag);
  }

  private onLost(connection: ChannelModel): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.publisher = undefined;
    this.inspector = undefined;
    this.consumerChannels.length = 0;
    if (this.closing) return;
    this.logger.warn('lost the RabbitMQ connection; reconnecting');
    this.connecting = this.connectLoop();
  }
}
