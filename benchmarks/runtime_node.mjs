// Node driver of the runtime benchmark: one round in this (fresh) process.
//
//   node benchmarks/runtime_node.mjs SPEC_JSON
//
// SPEC_JSON is runtime_round.mjs's spec, with indexURL a local folder. Prints the round's
// result as one line of JSON on stdout; exits 1 with the error on stderr if Pyodide itself
// fails to start.

import path from "node:path";
import { pathToFileURL } from "node:url";
import { runRound } from "./runtime_round.mjs";

async function main() {
  const spec = JSON.parse(process.argv[2]);
  const dist = path.resolve(spec.indexURL) + path.sep;
  const { loadPyodide } = await import(pathToFileURL(path.join(dist, "pyodide.mjs")).href);
  const result = await runRound(loadPyodide, { ...spec, indexURL: dist });
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`, () => process.exit(1));
});
