/**
 * Progress bars on stderr (cli-progress), so stdout stays clean for `--json`. Drawn only when
 * stderr is a terminal; otherwise nothing is printed.
 */
import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  update(done: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

export function progressBar(total: number, format: string, initial: Record<string, string | number> = {}): Progress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar({ stream: process.stderr, format, hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
  bar.start(total, 0, initial);
  return {
    update: (done, payload) => bar.update(done, payload ?? {}),
    stop: () => bar.stop(),
  };
}
