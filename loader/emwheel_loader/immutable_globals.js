// Exported immutable globals that say so without an exception, for dlopen_hook.js.
//
// Emscripten 5 (Pyodide 314) relocates each data export of a side module it loads
// (relocateExports): it asks whether the WebAssembly.Global is immutable by setting its
// value and catching the TypeError that setting an immutable global throws. A side module
// exports one such global per data symbol: 57,000 in grill-usd-core's modules. Each
// TypeError costs V8 its construction, and in Chromium far more than in Node: 270 µs each
// on average while Python imports pxr.Tf (1,836 of them: 490 of its 548 ms), measured
// under chromedriver with the benchmark's round (benchmarks/bench_runtime.py).
//
// mark() gives the immutable globals an instance exports a prototype of their own: the
// same `value` getter, and a setter that throws one TypeError made in advance, with the
// message V8 gives. Emscripten's test then costs a throw of an existing object (about a
// microsecond); for everything else the globals behave as before (instanceof
// WebAssembly.Global holds, valueOf and value read the same). Which exported globals are
// immutable is read from the module's own bytes (import, global and export sections): a
// module whose sections this does not understand is left as it is.
//
// Evaluated with pyodide.code.run_js; evaluates to a function of Emscripten's WebAssembly
// object (its realm's: see dlopen_hook.js).
(wasm) => {
  const Global = wasm.Global;
  const realmFunction = Global.constructor; // Function of the realm the globals belong to
  const valueAccessor = Object.getOwnPropertyDescriptor(Global.prototype, "value");
  const immutableError = sameErrorAsSetting(new Global({ value: "i32" }, 0));
  const immutablePrototype = Object.create(Global.prototype, {
    value: {
      get() {
        return valueAccessor.get.call(this);
      },
      set(_) {
        throw immutableError;
      },
      configurable: true,
    },
  });
  const IMPORT = 2;
  const GLOBAL = 6;
  const EXPORT = 7;
  const GLOBAL_KIND = 3;

  // The TypeError setting an immutable global throws in this realm, made once.
  function sameErrorAsSetting(global) {
    let message = "Can't set the value of an immutable global.";
    try {
      global.value = 1;
    } catch (error) {
      message = error.message;
    }
    return new (realmFunction("return TypeError")())(message);
  }

  // Where the immutable globals are among the exports a module's bytes declare,
  // {count: exports, positions: [...]}, or null if its sections are not understood (then
  // nothing is marked).
  function immutableExports(bytes) {
    try {
      return readImmutableExports(new Reader(bytes));
    } catch {
      return null;
    }
  }

  // The exports object of an instance has a property for each export, in the order of the
  // export section (WebAssembly JS API, "create an exports object"), and lists them in
  // that order, except names that are array indices (none here: see above). So the
  // globals are found by position, without decoding a name: decoding 57,000 of them took
  // longer than the rest of the reading.
  function mark(instance, immutable) {
    if (immutable === null || immutable === undefined) return 0;
    const exports = Object.values(instance.exports);
    if (exports.length !== immutable.count) return 0;
    let marked = 0;
    for (const position of immutable.positions) {
      const global = exports[position];
      // Only a global exactly as the instance made it; never one marked already.
      if (global instanceof Global && Object.getPrototypeOf(global) === Global.prototype) {
        Object.setPrototypeOf(global, immutablePrototype);
        marked += 1;
      }
    }
    return marked;
  }

  function readImmutableExports(r) {
    if (r.u32le() !== 0x6d736100 || r.u32le() !== 1) return null; // "\0asm", version 1
    const mutable = []; // by global index: imported globals first, then defined ones
    while (r.pos < r.bytes.length) {
      const id = r.byte();
      const size = r.uleb();
      const end = r.pos + size;
      if (end > r.bytes.length) return null;
      if (id === IMPORT) {
        importedGlobals(r, end, mutable);
      } else if (id === GLOBAL) {
        for (let n = r.uleb(); n > 0; n--) {
          r.valueType();
          mutable.push(r.mutability());
          r.constantExpression();
        }
      } else if (id === EXPORT) {
        const count = r.uleb();
        const positions = [];
        for (let position = 0; position < count; position++) {
          const length = r.uleb();
          // A name that starts with a digit may be an array index, which the exports object
          // lists before the others (see mark()).
          if (length > 0 && r.bytes[r.pos] >= 0x30 && r.bytes[r.pos] <= 0x39) return null;
          r.pos += length;
          const kind = r.byte();
          const index = r.uleb();
          if (kind !== GLOBAL_KIND) continue;
          if (index >= mutable.length) return null;
          if (!mutable[index]) positions.push(position);
        }
        return r.pos === end ? { count, positions } : null;
      }
      if (r.pos > end) return null;
      r.pos = end; // sections this does not need (custom ones too) are skipped whole
    }
    return { count: 0, positions: [] }; // no export section
  }

  // The mutability of each imported global, onto `mutable`. Side modules import thousands
  // of functions and data addresses (GOT.mem): this loop is most of the reading, so it
  // reads LEB128 and skips names inline; other kinds go through the Reader.
  function importedGlobals(r, end, mutable) {
    const bytes = r.bytes;
    let pos = r.pos;
    let count = bytes[pos++];
    if (count >= 0x80) {
      r.pos = pos - 1;
      count = r.uleb();
      pos = r.pos;
    }
    for (; count > 0; count--) {
      for (let name = 0; name < 2; name++) {
        let length = bytes[pos++];
        if (length >= 0x80) {
          r.pos = pos - 1;
          length = r.uleb();
          pos = r.pos;
        }
        pos += length;
      }
      if (pos >= end) throw new Error("past the end of the section");
      const kind = bytes[pos++];
      if (kind === 0 && bytes[pos] < 0x80) {
        pos += 1; // function: a type index below 128
        continue;
      }
      r.pos = pos;
      if (kind === 0) {
        r.uleb(); // function: type index
      } else if (kind === 1) {
        r.valueType(); // table: element type, limits
        r.limits();
      } else if (kind === 2) {
        r.limits(); // memory
      } else if (kind === GLOBAL_KIND) {
        r.valueType();
        mutable.push(r.mutability());
      } else if (kind === 4) {
        r.byte(); // tag: attribute, type index
        r.uleb();
      } else {
        throw new Error(`import kind ${kind}`);
      }
      pos = r.pos;
    }
    r.pos = pos;
  }

  class Reader {
    constructor(source) {
      this.bytes = ArrayBuffer.isView(source)
        ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
        : new Uint8Array(source);
      this.pos = 0;
    }

    byte() {
      if (this.pos >= this.bytes.length) throw new Error("past the end");
      return this.bytes[this.pos++];
    }

    u32le() {
      let value = 0;
      for (let i = 0; i < 4; i++) value += this.byte() * 2 ** (8 * i);
      return value;
    }

    uleb() {
      const first = this.byte();
      if (first < 0x80) return first; // nearly every one: counts, lengths, small indices
      let value = first & 0x7f;
      for (let shift = 7; shift < 70; shift += 7) {
        const b = this.byte();
        value += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) return value;
      }
      throw new Error("LEB128 too long");
    }

    mutability() {
      const flag = this.byte();
      if (flag > 1) throw new Error(`mutability ${flag}`);
      return flag === 1;
    }

    // A value type: one byte, or (ref null? heap type) with a heap type of one or more.
    valueType() {
      const code = this.byte();
      if (code === 0x63 || code === 0x64) this.uleb();
    }

    limits() {
      const flags = this.byte();
      if (flags > 0x0f) throw new Error(`limits flags ${flags}`);
      this.uleb(); // minimum
      if (flags & 0x01) this.uleb(); // maximum
      if (flags & 0x08) this.uleb(); // custom page size
    }

    // The constant expressions side modules use: constants, global.get, ref.null/ref.func,
    // extended-const arithmetic and v128.const; anything else is not understood.
    constantExpression() {
      for (;;) {
        const op = this.byte();
        if (op === 0x0b) return;
        if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2) this.uleb();
        else if (op === 0x43) this.pos += 4;
        else if (op === 0x44) this.pos += 8;
        else if (op === 0xd0) this.uleb(); // heap type (s33: the same bytes as a LEB128)
        else if ([0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e].includes(op)) continue;
        else if (op === 0xfd && this.uleb() === 0x0c) this.pos += 16;
        else throw new Error(`opcode ${op} in a constant expression`);
      }
    }
  }

  return { immutableExports, mark };
};
