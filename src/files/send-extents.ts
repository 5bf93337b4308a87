import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { FileExtent } from '../storage/artifact-store';

const BUFFER_BYTES = 1024 * 1024;
/** Buffers in flight: one being read from disk while the others drain into the socket. */
const BUFFERS = 3;

/**
 * Buffers of finished downloads, handed to the next ones: a 16 MiB range request would
 * otherwise allocate its 3 MiB anew, and a node agent makes 64 of those per GiB.
 */
const spare: Buffer[] = [];
const MAX_SPARE = 48;

function write(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Sends bytes that lie on local disk to `out` through a few buffers used over and over. A
 * buffer is read into again only after the socket has taken the previous bytes from it (the
 * write callback), so nothing is copied twice and nothing is allocated per chunk: a stream of
 * fresh 1 MiB buffers per gigabyte sent is what made the garbage collector the hottest code of
 * a download.
 */
export async function sendExtents(out: Writable, extents: FileExtent[]): Promise<void> {
  const buffers = Array.from({ length: BUFFERS }, () => spare.pop() ?? Buffer.allocUnsafe(BUFFER_BYTES));
  const inFlight: (Promise<void> | undefined)[] = new Array(BUFFERS);
  // A write to a connection that is gone may never call back: its closing ends the wait.
  let clientGone!: (error: Error) => void;
  const gone = new Promise<never>((_resolve, reject) => (clientGone = reject));
  gone.catch(() => undefined);
  const onClose = () => clientGone(new Error('the client went away'));
  out.once('close', onClose);
  const settled = (write: Promise<void> | undefined) => Promise.race([write, gone]);
  let turn = 0;
  try {
    for (const extent of extents) {
      const handle = await open(extent.file, 'r');
      try {
        for (let position = extent.start; position <= extent.end; ) {
          const slot = turn++ % BUFFERS;
          await settled(inFlight[slot]);
          if (out.destroyed) throw new Error('the client went away');
          const length = Math.min(BUFFER_BYTES, extent.end - position + 1);
          const { bytesRead } = await handle.read(buffers[slot], 0, length, position);
          if (bytesRead === 0) throw new Error(`${extent.file} ended at byte ${position}, before ${extent.end + 1}`);
          inFlight[slot] = write(out, buffers[slot].subarray(0, bytesRead));
          // Seen by the next await of this slot (or the final one); not left unhandled meanwhile.
          inFlight[slot].catch(() => undefined);
          position += bytesRead;
        }
      } finally {
        await handle.close();
      }
    }
    await settled(Promise.all(inFlight).then(() => undefined));
    // Only after every write called back: a connection that broke off may still hold them.
    for (const buffer of buffers) if (spare.length < MAX_SPARE) spare.push(buffer);
  } finally {
    out.off('close', onClose);
  }
}
