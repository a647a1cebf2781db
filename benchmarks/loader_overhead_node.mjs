// One round of bench_loader_overhead.py in Node: a fresh Pyodide from a distribution folder,
// the wheel's host folder mounted at /bench, then loader_overhead_round.mjs. Prints one JSON
// line.
//
//   node benchmarks/loader_overhead_node.mjs DIST_DIR OPTIONS.json
//
// OPTIONS.json: the round's options (see loader_overhead_round.mjs), with `wheel` a host path.
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

import { installRound } from "./loader_overhead_round.mjs";

const MOUNT = "/bench";

const [dist, optionsFile] = process.argv.slice(2);
const options = JSON.parse(readFileSync(optionsFile, "utf8"));
const { loadPyodide } = await import(pathToFileURL(join(dist, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: `${dist}/` });
pyodide.FS.mkdirTree(MOUNT);
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: dirname(options.wheel) }, MOUNT);
const wheel = `emfs:${MOUNT}/${basename(options.wheel)}`;
const result = await installRound(pyodide, { ...options, wheel });
process.stdout.write(`${JSON.stringify(result)}\n`);
