// emwheel-loader: apply emwheel's runtime loader to a Pyodide instance from JavaScript.
//
// The loading logic is the Python package emwheel_loader (bundled in python-sources.mjs);
// this module writes it into Pyodide's site-packages and activates it, so a wheel installed
// afterwards with micropip or pyodide.loadPackage is loaded by its manifest.
import { LOADER_VERSION, PYTHON_SOURCES } from "./python-sources.mjs";

export { LOADER_VERSION };

export class EmwheelLoaderError extends Error {
  constructor(message) {
    super(message);
    this.name = "EmwheelLoaderError";
  }
}

function lastLine(error) {
  const lines = String(error?.message ?? error).trim().split("\n");
  return lines[lines.length - 1].replace(/^[\w.]+Error: /, "");
}

export async function patchPyodide(pyodide, options = {}) {
  const { verifyHashes = true, providerGraceMs = 1000, lazy = true } = options;
  const sitePackages = pyodide.runPython("import site; site.getsitepackages()[0]");
  const folder = `${sitePackages}/emwheel_loader`;
  pyodide.FS.mkdirTree(folder);
  for (const [name, text] of Object.entries(PYTHON_SOURCES)) {
    pyodide.FS.writeFile(`${folder}/${name}`, text);
  }
  pyodide.runPython("import importlib; importlib.invalidate_caches()");
  const loader = pyodide.pyimport("emwheel_loader");
  try {
    loader.activate.callKwargs({
      verify_hashes: verifyHashes,
      provider_grace_seconds: providerGraceMs / 1000,
      lazy,
    });
  } catch (error) {
    throw new EmwheelLoaderError(lastLine(error));
  }
  return {
    version: LOADER_VERSION,
    deactivate() {
      loader.deactivate();
    },
    installTimings() {
      const list = pyodide.runPython(
        "import emwheel_loader; [t.as_dict() for t in emwheel_loader.install_timings()]",
      );
      try {
        return list.toJs({ dict_converter: Object.fromEntries }).map(camelCaseKeys);
      } finally {
        list.destroy();
      }
    },
  };
}

// emwheel_loader.InstallTimings fields (install_timings()) with JavaScript's key style.
function camelCaseKeys(object) {
  return Object.fromEntries(
    Object.entries(object).map(([key, value]) => [
      key.replace(/_(\w)/g, (_, c) => c.toUpperCase()),
      value,
    ]),
  );
}
