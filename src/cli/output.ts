/**
 * Standard output and error as the CLI writes them: a write returns at once
 * (commands print as they go), and `flush()` resolves once everything written
 * so far has been handed to the operating system. The CLI exits explicitly
 * (an abandoned download or an SDK keep-alive socket must not keep it
 * running), and a pipe takes writes asynchronously, so without the flush a
 * piped `twelve threads export` would be cut off at the pipe's buffer size.
 */
export interface Output {
  write(text: string): void;
  /** Resolves when every earlier write has been written, or the stream failed. Never rejects. */
  flush(): Promise<void>;
  /** The write error that closed the stream (EPIPE: the reader went away); later writes are dropped. */
  readonly error: NodeJS.ErrnoException | undefined;
}

export function output(stream: NodeJS.WritableStream, onError?: (error: NodeJS.ErrnoException) => void): Output {
  let last: Promise<void> = Promise.resolve();
  let failed: NodeJS.ErrnoException | undefined;
  let settleFailed: () => void = () => {};
  const failure = new Promise<void>((resolve) => {
    settleFailed = resolve;
  });
  const fail = (error: NodeJS.ErrnoException) => {
    if (failed) return;
    failed = error;
    settleFailed();
    onError?.(error);
  };
  // Without a listener a write error (EPIPE from `| head -1`) is an uncaught exception with a stack trace.
  stream.on("error", fail);
  return {
    get error() {
      return failed;
    },
    write(text) {
      if (failed || text === "") return;
      const written = new Promise<void>((resolve) => {
        try {
          stream.write(text, (error) => {
            if (error) fail(error as NodeJS.ErrnoException);
            resolve();
          });
        } catch (error) {
          fail(error as NodeJS.ErrnoException);
          resolve();
        }
      });
      // Writes complete in order, so waiting for the last one waits for them all.
      last = written;
    },
    // A destroyed stream may never call back: stop waiting when it fails.
    flush: () => Promise.race([last, failure]),
  };
}
