/** Bytes `start`–`end` (inclusive) of a file on local disk. */
export interface FileExtent {
  file: string;
  start: number;
  end: number;
}
