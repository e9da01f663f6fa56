/**
 * The standalone doorbell's wire format over a Unix socket (named pipe on Windows):
 * - reader -> writer, once after connecting: 12 bytes little-endian: HELLO_MAGIC, slot (int32), pid (int32);
 * - writer -> reader: one byte BELL per doorbell. Nothing else; the socket closing means the writer is gone.
 */
export const HELLO_MAGIC = 0x4c454244; // "DBEL"
export const HELLO_BYTES = 12;
export const BELL = 1;

export function encodeHello(slot: number, pid: number): Buffer {
  const hello = Buffer.alloc(HELLO_BYTES);
  hello.writeUInt32LE(HELLO_MAGIC, 0);
  hello.writeInt32LE(slot, 4);
  hello.writeInt32LE(pid, 8);
  return hello;
}

export function decodeHello(bytes: Buffer): { slot: number; pid: number } | undefined {
  if (bytes.length < HELLO_BYTES || bytes.readUInt32LE(0) !== HELLO_MAGIC) return undefined;
  return { slot: bytes.readInt32LE(4), pid: bytes.readInt32LE(8) };
}
