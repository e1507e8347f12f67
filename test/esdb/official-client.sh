#!/usr/bin/env bash
# Runs one suite of EventStore-Client-NodeJS v6.2.1's own tests against `cadenza store serve --memory`
# (TLS, admin/changeit), as docs/esdb-compatibility.md counts them. Nothing of the client is kept in
# this repository: its test sources are taken from a clone given on the command line, run unchanged by
# vitest in jest mode, with only the test node swapped for ours (the harness below).
#
#   git clone https://github.com/EventStore/EventStore-Client-NodeJS /tmp/client   # needs the v6.2.1 tag
#   test/esdb/official-client.sh /tmp/client persistentSubscription   # or streams, extra; more args go to vitest
#   SYSTEM_PROJECTIONS=1 test/esdb/official-client.sh /tmp/client streams   # serve with --system-projections
#
# The harness: `@test-utils`' Cluster starts the server as a child process (`up`), stops it with SIGTERM
# (`down`, and `killNode`: docker stop on a one-node cluster), maps EVENTSTORE_MAX_APPEND_SIZE to
# --max-append-size, and reports server version 24.10.0 for the version gates. Five
# persistent-subscription files reach a three-node cluster's leader by gossip
# (`{ endpoints, nodePreference: "leader" }`); they get the one node's address instead.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 <EventStore-Client-NodeJS clone> <persistentSubscription|streams|extra> [vitest args]" >&2
  exit 2
fi
repo=$(cd "$(dirname "$0")/../.." && pwd)
client=$1
suite=$2
shift 2
case "$suite" in
  persistentSubscription|streams|extra) ;;
  *) echo "unknown suite '$suite': persistentSubscription, streams or extra" >&2; exit 2 ;;
esac
if ! git -C "$client" rev-parse -q --verify v6.2.1 >/dev/null; then
  echo "$client is not a clone of EventStore-Client-NodeJS with the tag v6.2.1" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cadenza-official-XXXXXX")
trap 'rm -rf "$work"' EXIT
git -C "$client" archive v6.2.1 packages/test/src | tar -x -C "$work" --strip-components=2
ln -s "$repo/node_modules" "$work/node_modules"
mkdir "$work/certs"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$work/certs/key.pem" -out "$work/certs/cert.pem" 2>/dev/null

sed -i 's/{ endpoints: cluster.endpoints, nodePreference: "leader" }/{ endpoint: cluster.uri }/' \
  "$work"/src/persistentSubscription/*.test.ts

cat > "$work/src/utils/Cluster.ts" <<'EOF'
// The test node: `cadenza store serve --memory` with TLS and admin/changeit (written by official-client.sh).
import { spawn, type ChildProcess } from "child_process";
import { readFileSync } from "fs";
import { createInterface } from "readline";

const CERT = `${process.env.OFFICIAL_WORK}/certs/cert.pem`;
const KEY = `${process.env.OFFICIAL_WORK}/certs/key.pem`;

export class Cluster {
  private child?: ChildProcess;
  private port = 0;
  private options: string[] = [];
  constructor(_count = 1, private insecure = false) {}
  public async up(): Promise<void> {
    const args = [process.env.CADENZA_BIN!, "--json", "store", "serve", "--memory", "--port", "0", ...this.options];
    if (process.env.SYSTEM_PROJECTIONS) args.push("--system-projections");
    if (!this.insecure) args.push("--tls-cert", CERT, "--tls-key", KEY, "--username", "admin", "--password", "changeit");
    this.child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    const lines = createInterface({ input: this.child.stdout! });
    const line: string = await new Promise((resolve) => lines.once("line", resolve));
    this.port = Number(JSON.parse(line).address.split(":").pop());
  }
  public async down(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((resolve) => { child.once("exit", resolve); child.kill("SIGTERM"); });
  }
  public async killNode(): Promise<void> { await this.down(); }
  public async resurrect(): Promise<void> { throw new Error("a stopped node is not restarted (single node, in memory)"); }
  public setLogLevel() { return this; }
  public setOption(key: string, value: unknown) {
    if (key === "EVENTSTORE_MAX_APPEND_SIZE") this.options.push("--max-append-size", String(value));
    return this;
  }
  public get certs() { return { root: readFileSync(CERT) }; }
  public get uri(): string { return `localhost:${this.port}`; }
  public get endpoints() { return [{ address: "localhost", port: this.port }]; }
}
EOF

cat > "$work/setup.ts" <<'EOF'
import { vi } from "vitest";
(globalThis as any).jest = Object.assign(Object.create(vi), vi, { setTimeout: (ms: number) => vi.setConfig({ testTimeout: ms, hookTimeout: ms }) });
(globalThis as any).capabilities = { serverVersion: "24.10.0" };
EOF

cat > "$work/vitest.config.mjs" <<EOF
const client = "$repo/node_modules/@eventstore/db-client";
export default {
  resolve: {
    alias: [
      { find: "@test-utils", replacement: "$work/src/utils/index.ts" },
      { find: /^@eventstore\/db-client$/, replacement: \`\${client}/dist/index.js\` },
      { find: /^@eventstore\/db-client\/(.*)$/, replacement: \`\${client}/\$1\` },
    ],
  },
  test: {
    globals: true,
    testTimeout: 60000,
    hookTimeout: 60000,
    setupFiles: ["$work/setup.ts"],
    include: ["src/$suite/*.test.ts"],
    fileParallelism: false,
  },
};
EOF

cd "$work"
OFFICIAL_WORK="$work" CADENZA_BIN="$repo/src/cli/bin.js" "$repo/node_modules/.bin/vitest" run --config vitest.config.mjs "$@"
