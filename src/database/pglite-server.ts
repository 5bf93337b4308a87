import { createServer, Server, Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';

interface PendingMessage {
  connection: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: Error) => void;
}

/**
 * Follows the backend's output message by message (they may straddle chunks) and remembers
 * the transaction status of the last ReadyForQuery seen.
 */
class ReadyForQueryTracker {
  private header = Buffer.alloc(5);
  private headerFilled = 0;
  private bodyLeft = 0;
  private type = 0;
  private notification: Buffer[] | null = null;
  /** 'I' idle, 'T' in a transaction, 'E' in a failed transaction; undefined: none seen yet. */
  status: string | undefined;
  /** Complete NotificationResponse ('A') messages seen, to hand to other listening connections. */
  readonly notifications: Buffer[] = [];

  feed(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - offset);
        if (this.type === 0x5a /* 'Z' */ && this.bodyLeft === 1) this.status = String.fromCharCode(chunk[offset]);
        this.notification?.push(Buffer.from(chunk.subarray(offset, offset + take)));
        this.bodyLeft -= take;
        offset += take;
        if (this.bodyLeft === 0) this.endMessage();
        continue;
      }
      this.header[this.headerFilled++] = chunk[offset++];
      if (this.headerFilled === 5) {
        this.type = this.header[0];
        this.bodyLeft = this.header.readInt32BE(1) - 4;
        this.headerFilled = 0;
        this.notification = this.type === 0x41 /* 'A' */ ? [Buffer.from(this.header)] : null;
        if (this.bodyLeft === 0) this.endMessage();
      }
    }
  }

  private endMessage(): void {
    if (this.notification) this.notifications.push(Buffer.concat(this.notification));
    this.notification = null;
  }
}

/** `LISTEN name` / `UNLISTEN name|*` in a simple Query message, as the pg driver sends them. */
function listenCommand(message: Uint8Array): { listen: boolean; channel: string } | null {
  if (message[0] !== 0x51 /* 'Q' */) return null;
  const text = Buffer.from(message.subarray(5)).toString('utf8').replace(/\0$/, '');
  const match = /^\s*(UN)?LISTEN\s+("?)([A-Za-z_][A-Za-z0-9_$]*|\*)\2\s*;?\s*$/i.exec(text);
  if (!match) return null;
  return { listen: !match[1], channel: match[2] ? match[3] : match[3].toLowerCase() };
}

/** The channel name of a NotificationResponse: Int32 pid, then the channel as a C string. */
function notificationChannel(message: Buffer): string {
  const end = message.indexOf(0, 9);
  return message.subarray(9, end < 0 ? message.length : end).toString('utf8');
}

/**
 * Shares PGlite's single session between several client connections without mixing them up.
 * pglite-socket's own queue interleaves connections message by message, so one client's
 * Parse/Bind/Execute can land between another's and an open transaction can take in a
 * stranger's statements. Here a connection that starts talking owns the session until the
 * backend says ReadyForQuery with status idle; everyone else waits their turn. That is the
 * behaviour a pool of one connection has, extended to several processes.
 */
class SessionPinningQueue {
  private pending: PendingMessage[] = [];
  private owner: number | null = null;
  private draining = false;
  /**
   * Connections that ran LISTEN, with the writer to their socket. PGlite is one session, so
   * a notification comes out in the reply of whichever connection's COMMIT produced it; it is
   * handed to every other connection listening on its channel, as separate Postgres sessions
   * would each receive it.
   */
  private readonly listeners = new Map<number, { channels: Set<string>; write: (data: Uint8Array) => void }>();

  constructor(private readonly db: PGlite) {}

  enqueue(connection: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending.push({ connection, message, onData, resolve, reject });
      void this.drain();
    });
  }

  getQueueLength(): number {
    return this.pending.length;
  }

  clearQueueForHandler(connection: number): void {
    this.listeners.delete(connection);
    for (const item of this.pending.filter((entry) => entry.connection === connection)) {
      item.reject(new Error('connection closed'));
    }
    this.pending = this.pending.filter((entry) => entry.connection !== connection);
  }

  /** A connection that left mid-transaction has its transaction rolled back and the session freed. */
  async clearTransactionIfNeeded(connection: number): Promise<void> {
    if (this.owner !== connection) return;
    // Sockets are closed on shutdown too, possibly after the database itself.
    if (!this.db.closed && this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.owner = null;
    void this.drain();
  }

  private trackListen(item: PendingMessage): void {
    const command = listenCommand(item.message);
    if (!command) return;
    const entry = this.listeners.get(item.connection) ?? { channels: new Set<string>(), write: item.onData };
    entry.write = item.onData;
    if (command.listen) entry.channels.add(command.channel);
    else if (command.channel === '*') entry.channels.clear();
    else entry.channels.delete(command.channel);
    this.listeners.set(item.connection, entry);
  }

  private forward(origin: number, notifications: Buffer[]): void {
    for (const message of notifications) {
      const channel = notificationChannel(message);
      for (const [connection, listener] of this.listeners) {
        if (connection !== origin && listener.channels.has(channel)) listener.write(message);
      }
    }
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        const index = this.owner === null ? 0 : this.pending.findIndex((entry) => entry.connection === this.owner);
        if (index < 0 || this.pending.length === 0) return;
        const [item] = this.pending.splice(index, 1);
        this.owner = item.connection;
        this.trackListen(item);
        const tracker = new ReadyForQueryTracker();
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                tracker.feed(data);
                item.onData(data);
              },
            }),
          );
          if (tracker.status === 'I') this.owner = null;
          this.forward(item.connection, tracker.notifications);
          item.resolve(bytes);
        } catch (error) {
          item.reject(error as Error);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

export interface PgliteServer {
  port: number;
  stop(): Promise<void>;
}

/** Serves a PGlite database on a loopback port to any number of Postgres clients. */
export async function servePglite(db: PGlite, maxConnections: number): Promise<PgliteServer> {
  const queue = new SessionPinningQueue(db);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    if (sockets.size >= maxConnections) {
      socket.end();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const handler = new PGLiteSocketHandler({
      db,
      closeOnDetach: true,
      // pglite-socket types its queue as its own class; ours has the same public surface.
      queryQueue: queue as unknown as ConstructorParameters<typeof PGLiteSocketHandler>[0]['queryQueue'],
    } as ConstructorParameters<typeof PGLiteSocketHandler>[0]);
    handler.attach(socket).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('PGlite server has no TCP address');
  return {
    port: address.port,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
