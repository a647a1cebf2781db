// One round of bench_loader_overhead.py, in a fresh Pyodide (Node or a browser page): write
// the loader's sources into site-packages, activate it, time one micropip.install of the
// wheel, and return that time with what emwheel_loader.install_timings() reports.
//
// options: {wheel: a URL or "emfs:" path, loaderFiles: {name: text}, verifyHashes, lazy,
// hideWebCrypto}. hideWebCrypto shadows crypto.subtle while the loader starts, as a page
// served over plain http has it: the loader then hashes with hashlib (its fallback, and
// what it did before it hashed with WebCrypto).

const ROUND = `
import json
import time

import micropip
from pyodide.code import run_js

import emwheel_loader

if options["hideWebCrypto"]:
    run_js("Object.defineProperty(crypto, 'subtle', {value: undefined, configurable: true})")
try:
    emwheel_loader.activate(verify_hashes=options["verifyHashes"], lazy=options["lazy"])
finally:
    run_js("delete crypto.subtle")
start = time.perf_counter()
await micropip.install(options["wheel"], deps=False)
install_seconds = time.perf_counter() - start
(timings,) = emwheel_loader.install_timings()
json.dumps({"install_seconds": install_seconds, **timings.as_dict()})
`;

export async function installRound(pyodide, options) {
  await pyodide.loadPackage("micropip", { messageCallback: () => {} });
  const sitePackages = pyodide.runPython("import site; site.getsitepackages()[0]");
  pyodide.FS.mkdirTree(`${sitePackages}/emwheel_loader`);
  for (const [name, text] of Object.entries(options.loaderFiles)) {
    pyodide.FS.writeFile(`${sitePackages}/emwheel_loader/${name}`, text);
  }
  pyodide.runPython("import importlib; importlib.invalidate_caches()");
  const globals = pyodide.toPy({ options });
  try {
    return JSON.parse(await pyodide.runPythonAsync(ROUND, { globals }));
  } finally {
    globals.destroy();
  }
}
