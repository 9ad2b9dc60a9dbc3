/**
 * Readable log lines for long-running nodes: `12:00:03 worker   job 4: submitted (trace 0x12ab…)`.
 * The sink is console.log by default; the demo and tests pass their own.
 */
export type LogSink = (line: string) => void;

export interface Logger {
  readonly name: string;
  info(text: string): void;
  warn(text: string): void;
}

const clock = () => new Date().toISOString().slice(11, 19);

export function createLogger(name: string, sink: LogSink = (line) => console.log(line), opts: { timestamps?: boolean } = {}): Logger {
  const stamp = opts.timestamps ?? true;
  const line = (mark: string, text: string) => sink(`${stamp ? `${clock()} ` : ""}${name.padEnd(9)}${mark}${text}`);
  return { name, info: (text) => line("", text), warn: (text) => line("! ", text) };
}

/** Shortens a hash or address for a log line: 0x12ab34…cd. */
export function short(hex: string): string {
  return hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex;
}
