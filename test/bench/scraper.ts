/**
 * A `/metrics` scraper in a child process, as Prometheus is: one scrape at once and then one a
 * second, one at a time, until `stop`; then its figures. Its own work (the HTTP client, ~12 ms a
 * scrape) is not the engine process's, so a benchmark's engine pays only for serving the scrapes
 * (http.bench.ts, engine.bench.ts).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

export interface Scrapes {
  readonly count: number;
  /** Per scrape: ms from the request to the last byte. */
  readonly wallMs: number[];
  readonly bytes: number;
}

/** The child's program: scrapes until its stdin closes, then writes its figures as one JSON line. */
const scraperScript = `
const url = process.argv[1];
const everyMs = Number(process.argv[2]);
const scrapes = { count: 0, wallMs: [], bytes: 0 };
let failure;
let scraping = Promise.resolve();
const scrape = () => {
  scraping = scraping.then(async () => {
    const began = performance.now();
    const response = await fetch(url);
    const text = await response.text();
    if (!response.ok) throw new Error('/metrics answered ' + response.status);
    scrapes.bytes = text.length;
    scrapes.wallMs.push(performance.now() - began);
    scrapes.count++;
    if (scrapes.count === 1) process.stdout.write('first\\n');
  }).catch((error) => { failure = String(error); });
};
scrape();
const timer = setInterval(scrape, everyMs);
process.stdin.resume();
process.stdin.on('end', async () => {
  clearInterval(timer);
  await scraping;
  process.stdout.write(JSON.stringify(failure ? { failure } : scrapes) + '\\n', () => process.exit(0));
});
`;

/**
 * Scrape `${baseUrl}/metrics` every second (or every `everyMs`) from a child process until `stop`,
 * which fails if a scrape failed. `first` settles once the first scrape is answered: a benchmark starts measuring after it,
 * as Prometheus has long been scraping a worker by the time it is busy (the first scrape's one-time
 * work, JIT included, is not the steady cost being measured).
 */
export function scrapeEverySecond(baseUrl: string, everyMs = 1000): { first: Promise<void>; stop(): Promise<Scrapes> } {
  const child = spawn(process.execPath, ['-e', scraperScript, `${baseUrl}/metrics`, String(everyMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  let firstDone: () => void = () => undefined;
  const first = new Promise<void>((resolve) => (firstDone = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (output.startsWith('first\n')) firstDone();
  });
  const exited = once(child, 'exit');
  // A scraper that ends before its first scrape (a failure) does not hold the benchmark up: `stop` reports it.
  void exited.then(() => firstDone());
  return {
    first,
    async stop() {
      child.stdin.end();
      const [code] = (await exited) as [number | null];
      const result = JSON.parse(output.replace(/^first\n/, '') || '{}') as Scrapes | { failure?: string };
      if (code !== 0 || 'failure' in result) throw new Error(`the scraper failed (exit ${code}): ${'failure' in result ? result.failure : output}`);
      return result as Scrapes;
    },
  };
}
