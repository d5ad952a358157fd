/**
 * How tools talk to the world.  Every tool (tcpdump, netstat, pfctl, ...) is
 * a function of its arguments and an `Io`, returning an exit status, so the
 * same code runs from the command line, the lab shell, scripts and tests.
 */

export interface Output {
  write(s: string): void;
  /** Raw bytes, for outputs that can take them without a string (a file descriptor). */
  writeBytes?(b: Uint8Array, length: number): void;
  /** Hand what is buffered to the file descriptor (outputs that buffer). */
  flush?(): void;
}

export interface Io {
  stdout: Output;
  stderr: Output;
}

export type Tool = (argv: readonly string[], io: Io) => number | Promise<number>;

/**
 * The bytes of a file's text.  Files of a lab machine are strings: a
 * "binary string" (every char below 256: what nc received, an imported
 * file, a capture) is its bytes one char each, as latin1; text with wider
 * chars (typed by a user) is UTF-8, as a terminal would have sent it.
 */
export function textBytes(s: string): Uint8Array {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return new Uint8Array(Buffer.from(s, 'utf8'));
  }
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

/** Bytes as a binary string, one char per byte (what textBytes() gives back). */
export function binaryString(b: Uint8Array, length = b.length): string {
  return Buffer.from(b.buffer, b.byteOffset, length).toString('latin1');
}

/**
 * A program's standard input as it arrives (a terminal's lines, a file):
 * what poll(2) and read(2) on descriptor 0 see.  peek() and consume()
 * rather than read(), so a program can send what it took in pieces the
 * socket accepts.
 */
export interface InputStream {
  /** At most max bytes of what arrived, not consumed: bytes, an empty array when nothing is there yet, null at end of input. */
  peek(max: number): Uint8Array | null;
  /** The first n bytes of the last peek() are used. */
  consume(n: number): void;
  /** peek() would give bytes or the end now. */
  ready(): boolean;
  /** Call wake once, when peek() has something (bytes or the end); returns the cancellation. */
  wait(wake: () => void): () => void;
}

/** Standard input that is all there from the start (`<file`): its bytes, then the end. */
export class BytesInput implements InputStream {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  peek(max: number): Uint8Array | null {
    if (this.pos >= this.bytes.length) return null;
    return this.bytes.subarray(this.pos, Math.min(this.bytes.length, this.pos + max));
  }
  consume(n: number): void {
    this.pos += n;
  }
  ready(): boolean {
    return true;
  }
  wait(wake: () => void): () => void {
    wake();
    return () => undefined;
  }
}

/** Standard input fed as it comes (a terminal's lines): push() bytes, end() at Ctrl-D. */
export class QueueInput implements InputStream {
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  private readonly waiters = new Set<() => void>();
  push(b: Uint8Array): void {
    if (this.ended || b.length === 0) return;
    this.chunks.push(b);
    this.wakeAll();
  }
  end(): void {
    this.ended = true;
    this.wakeAll();
  }
  peek(max: number): Uint8Array | null {
    const c = this.chunks[0];
    if (c === undefined) return this.ended ? null : new Uint8Array(0);
    return c.length <= max ? c : c.subarray(0, max);
  }
  consume(n: number): void {
    while (n > 0 && this.chunks.length > 0) {
      const c = this.chunks[0]!;
      if (n >= c.length) {
        this.chunks.shift();
        n -= c.length;
      } else {
        this.chunks[0] = c.subarray(n);
        n = 0;
      }
    }
  }
  ready(): boolean {
    return this.chunks.length > 0 || this.ended;
  }
  wait(wake: () => void): () => void {
    if (this.ready()) {
      wake();
      return () => undefined;
    }
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }
  private wakeAll(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }
}

/** An Output that collects text, for tests and for the shell's redirections. */
export class StringOutput implements Output {
  private parts: string[] = [];
  write(s: string): void {
    this.parts.push(s);
  }
  text(): string {
    const t = this.parts.join('');
    this.parts = [t];
    return t;
  }
}

/**
 * An Output over a file descriptor that batches writes into large chunks,
 * so printing a million lines costs a few hundred system calls.
 *
 * `before` is another output whose buffered text comes first: stderr made
 * with stdout as its `before` (and a limit of 0, unbuffered as stdio's
 * stderr is) flushes stdout ahead of every message, so a transcript on one
 * pipe or terminal (`2>&1`) shows each error under the line that caused it.
 */
export class BufferedFdOutput implements Output {
  private buf: string[] = [];
  private size = 0;
  constructor(
    private readonly write_: (s: string) => void,
    private readonly limit = 1 << 16,
    private readonly writeBytes_?: (b: Uint8Array, length: number) => void,
    private readonly before?: Output,
  ) {}
  writeBytes(b: Uint8Array, length: number): void {
    if (this.writeBytes_ === undefined) {
      this.write(binaryString(b, length));
      return;
    }
    this.before?.flush?.();
    this.flush();
    this.writeBytes_(b, length);
  }
  write(s: string): void {
    this.before?.flush?.();
    this.buf.push(s);
    this.size += s.length;
    if (this.size >= this.limit) this.flush();
  }
  flush(): void {
    if (this.size === 0 && this.buf.length === 0) return;
    this.write_(this.buf.join(''));
    this.buf = [];
    this.size = 0;
  }
}

/** A captured run of a tool: exit status and both streams as text. */
export interface Captured {
  status: number;
  stdout: string;
  stderr: string;
}

export async function capture(tool: Tool, argv: readonly string[]): Promise<Captured> {
  const out = new StringOutput();
  const err = new StringOutput();
  const status = await tool(argv, { stdout: out, stderr: err });
  return { status, stdout: out.text(), stderr: err.text() };
}
