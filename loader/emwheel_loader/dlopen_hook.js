// emwheel's hook on Emscripten's dlopen, installed into a running Pyodide by activate().
//
// Pyodide's installers dlopen every library a package unpacks through
// Module._emscripten_dlopen_promise(path, flags), looking it up at each call. For a path the
// Python side has planned (a module of a wheel with an emwheel manifest), this hook first
// loads the Pyodide packages it needs and waits for libraries other wheels provide, makes
// its dependencies findable under every name Emscripten will look them up by, loads it with
// RTLD_GLOBAL if it is a shared library, and reports failures with the wheel's name.
// Any other path goes to Emscripten untouched.
//
// Evaluated with pyodide.code.run_js; evaluates to a function of (Module, pyodide).
(Module, pyodide) => {
  const RTLD_GLOBAL = 256;
  const LOADING = "loading"; // what Emscripten's cache holds for a library being loaded

  const hook = {
    original: Module._emscripten_dlopen_promise,
    plans: new Map(), // absolute path -> plan (see plan())
    providers: new Map(), // library file name -> {path, wheel}
    loads: new Map(), // absolute path -> Promise of its load
    waiters: new Map(), // library file name -> [resolve]
    providerGraceMs: 1000,

    plan(path, wheel, library, global, aliases, packages, waitFor, viaLoadPackage) {
      hook.plans.set(path, {
        wheel, library, global, aliases: new Map(aliases), packages, waitFor, viaLoadPackage,
      });
    },

    provide(name, path, wheel) {
      if (!hook.providers.has(name)) {
        hook.providers.set(name, { path, wheel });
      }
      for (const resolve of hook.waiters.get(name) ?? []) resolve();
      hook.waiters.delete(name);
    },

    forget(wheel) {
      for (const [path, plan] of hook.plans) if (plan.wheel === wheel) hook.plans.delete(path);
    },

    knows(name) {
      return hook.providers.has(name) || name in Module.LDSO.loadedLibsByName;
    },

    dlopen(ptr, flags) {
      const path = Module.UTF8ToString(ptr);
      const plan = hook.plans.get(path);
      if (plan === undefined) return hook.original(ptr, flags);
      const info = { promise: loadPlanned(path, flags, plan) };
      return Module.promiseMap.allocate(info);
    },
  };

  // dlopen through Emscripten, returning a Promise; the path is copied into the heap.
  function dlopenPath(path, flags) {
    const ptr = Module.stringToNewUTF8(path);
    let id;
    try {
      id = hook.original(ptr, flags);
    } finally {
      Module._free(ptr);
    }
    const promise = Module.getPromise(id);
    Module.promiseMap.free(id);
    return promise;
  }

  function cached(key) {
    return Module.LDSO.loadedLibsByName[key];
  }

  // Register an already loaded library under more names. Never overwrite a different one.
  function alias(key, target) {
    const dso = cached(target) ?? cached(Module.PATH.normalize(target));
    if (dso === undefined || dso.exports === LOADING) return;
    if (cached(key) === undefined) Module.LDSO.loadedLibsByName[key] = dso;
  }

  function lastError() {
    const ptr = Module._dlerror();
    return ptr === 0 ? undefined : Module.UTF8ToString(ptr, 512).trim();
  }

  // A failed load leaves "loading" entries in Emscripten's cache, which would make a retry
  // "succeed" without loading anything: remove the ones this load created.
  function forgetPoisoned(before) {
    for (const [key, dso] of Object.entries(Module.LDSO.loadedLibsByName)) {
      if (!before.has(key) && dso.exports === LOADING) delete Module.LDSO.loadedLibsByName[key];
    }
  }

  async function waitForProvider(name, plan) {
    if (hook.knows(name)) return;
    // Wheels installed in one micropip call unpack one after the other; give the others a
    // moment to announce what they provide.
    let timer;
    const announced = new Promise((resolve) => {
      const list = hook.waiters.get(name) ?? [];
      list.push(resolve);
      hook.waiters.set(name, list);
    });
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve("timeout"), hook.providerGraceMs);
    });
    const result = await Promise.race([announced, timeout]);
    clearTimeout(timer);
    if (result === "timeout" && !hook.knows(name)) {
      throw new Error(
        `${plan.wheel}: ${plan.library}: needs ${name}, which the wheel leaves to another ` +
          "wheel (repair --exclude), and no installed wheel provides it",
      );
    }
  }

  // Each planned module is loaded once: a second dlopen of it (its own installer after
  // another wheel's module needed it, or a concurrent install) waits for the first.
  function loadPlanned(path, flags, plan) {
    let loading = hook.loads.get(path);
    if (loading === undefined) {
      loading = load(path, flags, plan);
      hook.loads.set(path, loading);
      loading.catch(() => hook.loads.delete(path)); // a retry loads it again
    }
    return loading;
  }

  async function load(path, flags, plan) {
    const missing = plan.packages.filter((p) => !(p in pyodide.loadedPackages));
    if (missing.length > 0) {
      if (plan.viaLoadPackage) {
        // pyodide.loadPackage holds its lock while it installs: loading more would hang.
        throw new Error(
          `${plan.wheel}: ${plan.library}: needs Pyodide package(s) ${missing.join(", ")}: ` +
            "load them first, or in the same pyodide.loadPackage call",
        );
      }
      await pyodide.loadPackage(missing, { messageCallback: () => {} });
    }
    for (const name of plan.waitFor) {
      await waitForProvider(name, plan);
      const provider = hook.providers.get(name);
      const providerPlan = provider && hook.plans.get(provider.path);
      if (providerPlan) await loadPlanned(provider.path, 2, providerPlan);
    }
    for (const [key, target] of plan.aliases) alias(key, target);
    const before = new Set(Object.keys(Module.LDSO.loadedLibsByName));
    try {
      await dlopenPath(path, plan.global ? flags | RTLD_GLOBAL : flags);
    } catch (error) {
      forgetPoisoned(before);
      const detail = lastError() ?? String(error);
      throw new Error(`${plan.wheel}: ${plan.library}: ${detail}`);
    }
    if (plan.global) {
      alias(path.slice(path.lastIndexOf("/") + 1), path);
      // Modules loaded later, by Python's import (lazy mode) or as another module's NEEDED,
      // look this library up under their own keys: register it under all of them now.
      for (const other of hook.plans.values()) {
        for (const [key, target] of other.aliases) if (target === path) alias(key, target);
      }
    }
  }

  return hook;
}
