/**
 * A small Python pickle reader ("unpickler"), enough for the pickles NumPy writes
 * (`np.save` of object arrays, protocols 0–5 binary opcodes as written by Python 2 and 3).
 * It never runs code: a call to a global (`REDUCE`, `NEWOBJ`) becomes a {@link PickleObject}
 * unless a {@link PickleClassHandler} for that global was supplied, or it is one of a few
 * harmless builtins (`set`, `frozenset`, `bytearray`, `collections.OrderedDict`,
 * `_codecs.encode`). Pure TypeScript; works in Node and browsers.
 */
import { WeightsFormatError } from '../errors.js';

/** A reference to a Python global (`module.name`), as pushed by `GLOBAL` / `STACK_GLOBAL`. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  /** `module.name`. */
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An instance of a class this reader has no handler for: the call that made it and its `BUILD` state. */
export class PickleObject {
  /** The state passed by `BUILD`, if any. */
  state: unknown = undefined;
  constructor(
    /** The class or function that was called. */
    readonly global: PickleGlobal,
    /** The positional arguments of the call. */
    readonly args: unknown[],
  ) {}
}

/**
 * What a pickled value becomes:
 * `None` → `null`, `bool` → boolean, `int` → number (bigint beyond 2^53), `float` → number,
 * `str` → string, Python 2 `str` → latin1 string, `bytes`/`bytearray` → Uint8Array,
 * `list`/`tuple` → array, `dict` → Map, `set`/`frozenset` → Set, other objects → {@link PickleObject}
 * or whatever a {@link PickleClassHandler} made.
 */
export type PickleValue = unknown;

/** Turns calls of one Python global into JavaScript values. */
export interface PickleClassHandler {
  /** Make the object for `global(*args)` (`REDUCE`) or `cls.__new__(cls, *args)` (`NEWOBJ`). */
  construct(args: unknown[], global: PickleGlobal): unknown;
  /** Apply `BUILD` state to an object `construct` made (in place: it may already be memoized). */
  setState?(obj: unknown, state: unknown): void;
}

/** Options of {@link unpickle}. */
export interface UnpickleOptions {
  /** Names the data in error messages. Default `'pickle'`. */
  source?: string;
  /** Byte offset in `source` where the pickle starts, added to offsets in error messages. Default 0. */
  baseOffset?: number;
  /** Handlers keyed by `module.name`, e.g. `numpy.dtype`. */
  classes?: Record<string, PickleClassHandler>;
  /**
   * Resolves persistent ids (`PERSID` / `BINPERSID`), which refer to data kept outside the
   * pickle (PyTorch's tensor storages). Without it a persistent id is an error.
   */
  persistentLoad?: (pid: unknown) => unknown;
}

/** A value read by {@link unpickleAt} and the offset just past its `STOP`. */
export interface UnpickledValue {
  value: PickleValue;
  /** Offset (in the bytes given) of the first byte after the pickle. */
  end: number;
}

function latin1ToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

function bytesToLatin1(b: Uint8Array): string {
  let s = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < b.length; i += CHUNK) {
    s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + CHUNK)));
  }
  return s;
}

/** Harmless builtins every Python pickle may reference. */
const BUILTIN_HANDLERS: Record<string, PickleClassHandler> = (() => {
  const set: PickleClassHandler = { construct: (args) => new Set((args[0] as unknown[] | undefined) ?? []) };
  const bytearray: PickleClassHandler = {
    construct: (args) => {
      const a = args[0];
      if (a === undefined) return new Uint8Array(0);
      if (a instanceof Uint8Array) return new Uint8Array(a);
      if (typeof a === 'string') return latin1ToBytes(a); // Python 2 str or (str, 'latin-1')
      if (Array.isArray(a)) return Uint8Array.from(a as number[]);
      throw new Error('unsupported bytearray argument');
    },
  };
  const orderedDict: PickleClassHandler = {
    construct: (args) => new Map(((args[0] as [unknown, unknown][] | undefined) ?? []).map((p) => [p[0], p[1]])),
  };
  const codecsEncode: PickleClassHandler = {
    // Python 3 pickles `bytes` at protocol < 3 as _codecs.encode(latin1-str, 'latin1').
    construct: (args) => {
      const [text, encoding] = args as [string, string | undefined];
      const enc = (encoding ?? 'utf-8').toLowerCase().replace(/[-_]/g, '');
      if (enc === 'latin1' || enc === 'iso88591') return latin1ToBytes(text);
      if (enc === 'utf8') return new TextEncoder().encode(text);
      throw new Error(`unsupported encoding ${encoding}`);
    },
  };
  return {
    '__builtin__.set': set,
    'builtins.set': set,
    '__builtin__.frozenset': set,
    'builtins.frozenset': set,
    '__builtin__.bytearray': bytearray,
    'builtins.bytearray': bytearray,
    'collections.OrderedDict': orderedDict,
    '_codecs.encode': codecsEncode,
  };
})();

/** Bounds-checked little cursor over the pickle bytes. */
class Cursor {
  pos = 0;
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly fail: (reason: string, at: number) => never,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): number {
    if (n < 0 || this.pos + n > this.bytes.length) {
      this.fail(`truncated: needs ${n} more byte(s), ${this.bytes.length - this.pos} left`, this.pos);
    }
    const p = this.pos;
    this.pos += n;
    return p;
  }
  u8(): number {
    return this.bytes[this.need(1)]!;
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  i32(): number {
    return this.view.getInt32(this.need(4), true);
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  u64(): number {
    const v = this.view.getBigUint64(this.need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('length too large', this.pos - 8);
    return Number(v);
  }
  f64be(): number {
    return this.view.getFloat64(this.need(8), false);
  }
  take(n: number): Uint8Array {
    const p = this.need(n);
    return this.bytes.subarray(p, p + n);
  }
  /** A text line without its trailing newline (protocol-0 style arguments). */
  line(): string {
    const start = this.pos;
    const nl = this.bytes.indexOf(0x0a, start);
    if (nl < 0) this.fail('truncated: missing newline', start);
    this.pos = nl + 1;
    return bytesToLatin1(this.bytes.subarray(start, nl));
  }
}

/** Little-endian two's-complement bytes → number (or bigint when not a safe integer). */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Pickle opcodes this reader knows (one byte each). */
const OP = {
  MARK: 0x28, // (
  STOP: 0x2e, // .
  POP: 0x30, // 0
  POP_MARK: 0x31, // 1
  DUP: 0x32, // 2
  FLOAT: 0x46, // F
  INT: 0x49, // I
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  LONG: 0x4c, // L
  BININT2: 0x4d, // M
  NONE: 0x4e, // N
  REDUCE: 0x52, // R
  BINSTRING: 0x54, // T
  SHORT_BINSTRING: 0x55, // U
  BINUNICODE: 0x58, // X
  APPEND: 0x61, // a
  BUILD: 0x62, // b
  GLOBAL: 0x63, // c
  DICT: 0x64, // d
  EMPTY_DICT: 0x7d, // }
  APPENDS: 0x65, // e
  GET: 0x67, // g
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  LIST: 0x6c, // l
  EMPTY_LIST: 0x5d, // ]
  PUT: 0x70, // p
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  SETITEM: 0x73, // s
  TUPLE: 0x74, // t
  EMPTY_TUPLE: 0x29, // )
  SETITEMS: 0x75, // u
  BINFLOAT: 0x47, // G
  BINBYTES: 0x42, // B
  SHORT_BINBYTES: 0x43, // C
  PERSID: 0x50, // P
  BINPERSID: 0x51, // Q
  PROTO: 0x80,
  NEWOBJ: 0x81,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  NEWOBJ_EX: 0x92,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
  BYTEARRAY8: 0x96,
} as const;

/**
 * Read one pickled value from `bytes` (stops at the first `STOP`).
 *
 * @throws {@link WeightsFormatError} naming `options.source` and the byte offset, on an
 *   unknown opcode, truncated data, a malformed stack, or a handler that rejects its arguments.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions = {}): PickleValue {
  return unpickleAt(bytes, 0, options).value;
}

/**
 * Read one pickled value starting at `offset` of `bytes` and say where it ended, for files
 * that hold several pickles in a row (PyTorch's legacy `torch.save` format).
 *
 * @throws {@link WeightsFormatError} as {@link unpickle}.
 */
export function unpickleAt(bytes: Uint8Array, offset: number, options: UnpickleOptions = {}): UnpickledValue {
  const source = options.source ?? 'pickle';
  const base = options.baseOffset ?? 0;
  let opStart = 0;
  const fail = (reason: string, at: number = opStart, cause?: unknown): never => {
    throw new WeightsFormatError(source, `pickle: ${reason} (at byte ${base + at})`, cause ? { cause } : undefined);
  };
  const handlers: Record<string, PickleClassHandler> = { ...BUILTIN_HANDLERS, ...(options.classes ?? {}) };
  /** Which handler made which object, so BUILD can route state back to it. */
  const madeBy = new WeakMap<object, PickleClassHandler>();
  const cur = new Cursor(bytes, fail);
  cur.pos = offset;
  const utf8 = new TextDecoder('utf-8', { fatal: true });

  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const pop = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = marks.pop();
    if (prev === undefined) fail('no MARK on the stack');
    stack = prev!;
    return items;
  };
  const text = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch (e) {
      return fail('invalid UTF-8 in a unicode string', opStart, e);
    }
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(`memo key ${i} was never stored`);
    return memo.get(i);
  };
  const call = (callable: unknown, args: unknown): unknown => {
    if (!(callable instanceof PickleGlobal)) return fail('REDUCE/NEWOBJ on something that is not a global');
    if (!Array.isArray(args)) return fail(`arguments of ${callable.qualifiedName} are not a tuple`);
    const handler = handlers[callable.qualifiedName];
    if (!handler) return new PickleObject(callable, args);
    let obj: unknown;
    try {
      obj = handler.construct(args, callable);
    } catch (e) {
      return fail(`cannot construct ${callable.qualifiedName}: ${(e as Error).message}`, opStart, e);
    }
    if (obj !== null && typeof obj === 'object') madeBy.set(obj, handler);
    return obj;
  };
  const persistent = (pid: unknown): unknown => {
    if (!options.persistentLoad) return fail('a persistent id (data stored outside the pickle) and no way to resolve it');
    try {
      return options.persistentLoad(pid);
    } catch (e) {
      if (e instanceof WeightsFormatError) throw e;
      return fail(`cannot resolve persistent id: ${(e as Error).message}`, opStart, e);
    }
  };
  const asMap = (d: unknown, what: string): Map<unknown, unknown> => {
    if (!(d instanceof Map)) fail(`${what} on something that is not a dict`);
    return d as Map<unknown, unknown>;
  };
  const asList = (l: unknown, what: string): unknown[] => {
    if (!Array.isArray(l)) fail(`${what} on something that is not a list`);
    return l as unknown[];
  };

  for (;;) {
    opStart = cur.pos;
    const op = cur.u8();
    switch (op) {
      case OP.PROTO: {
        const v = cur.u8();
        if (v > 5) fail(`unsupported pickle protocol ${v}`);
        break;
      }
      case OP.FRAME:
        cur.u64(); // frame length: framing is only a read-ahead hint
        break;
      case OP.STOP:
        if (stack.length !== 1 || marks.length !== 0) {
          fail(`STOP with ${stack.length} item(s) on the stack and ${marks.length} open MARK(s)`);
        }
        return { value: stack[0], end: cur.pos };
      case OP.MARK:
        marks.push(stack);
        stack = [];
        break;
      case OP.POP:
        if (stack.length === 0 && marks.length > 0) popMark();
        else pop();
        break;
      case OP.POP_MARK:
        popMark();
        break;
      case OP.DUP:
        stack.push(top());
        break;

      // Constants and numbers.
      case OP.NONE:
        stack.push(null);
        break;
      case OP.NEWTRUE:
        stack.push(true);
        break;
      case OP.NEWFALSE:
        stack.push(false);
        break;
      case OP.BININT:
        stack.push(cur.i32());
        break;
      case OP.BININT1:
        stack.push(cur.u8());
        break;
      case OP.BININT2:
        stack.push(cur.u16());
        break;
      case OP.LONG1:
        stack.push(decodeLong(cur.take(cur.u8())));
        break;
      case OP.LONG4: {
        const n = cur.i32();
        if (n < 0) fail('negative LONG4 length');
        stack.push(decodeLong(cur.take(n)));
        break;
      }
      case OP.BINFLOAT:
        stack.push(cur.f64be());
        break;
      case OP.INT: {
        const s = cur.line();
        if (s === '00') stack.push(false);
        else if (s === '01') stack.push(true);
        else {
          if (!/^[-+]?\d+$/.test(s)) fail(`bad INT ${JSON.stringify(s)}`);
          const v = BigInt(s);
          stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        }
        break;
      }
      case OP.LONG: {
        const s = cur.line().replace(/L$/, '');
        if (!/^[-+]?\d+$/.test(s)) fail(`bad LONG ${JSON.stringify(s)}`);
        const v = BigInt(s);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case OP.FLOAT: {
        const s = cur.line();
        const v = Number(s);
        if (Number.isNaN(v) && !/nan/i.test(s)) fail(`bad FLOAT ${JSON.stringify(s)}`);
        stack.push(v);
        break;
      }

      // Strings and bytes.
      case OP.SHORT_BINUNICODE:
        stack.push(text(cur.take(cur.u8())));
        break;
      case OP.BINUNICODE:
        stack.push(text(cur.take(cur.u32())));
        break;
      case OP.BINUNICODE8:
        stack.push(text(cur.take(cur.u64())));
        break;
      case OP.SHORT_BINSTRING:
        stack.push(bytesToLatin1(cur.take(cur.u8())));
        break;
      case OP.BINSTRING: {
        const n = cur.i32();
        if (n < 0) fail('negative BINSTRING length');
        stack.push(bytesToLatin1(cur.take(n)));
        break;
      }
      case OP.SHORT_BINBYTES:
        stack.push(new Uint8Array(cur.take(cur.u8())));
        break;
      case OP.BINBYTES:
        stack.push(new Uint8Array(cur.take(cur.u32())));
        break;
      case OP.BINBYTES8:
      case OP.BYTEARRAY8:
        stack.push(new Uint8Array(cur.take(cur.u64())));
        break;

      // Containers.
      case OP.EMPTY_TUPLE:
        stack.push([]);
        break;
      case OP.TUPLE1:
        stack.push([pop()]);
        break;
      case OP.TUPLE2: {
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      }
      case OP.TUPLE3: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      }
      case OP.TUPLE:
      case OP.LIST: {
        const items = popMark(); // (before touching `stack`: popMark swaps it)
        stack.push(items);
        break;
      }
      case OP.EMPTY_LIST:
        stack.push([]);
        break;
      case OP.EMPTY_DICT:
        stack.push(new Map());
        break;
      case OP.DICT: {
        const items = popMark();
        if (items.length % 2) fail('DICT with an odd number of items');
        const d = new Map();
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case OP.EMPTY_SET:
        stack.push(new Set());
        break;
      case OP.FROZENSET: {
        const items = popMark();
        stack.push(new Set(items));
        break;
      }
      case OP.ADDITEMS: {
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail('ADDITEMS on something that is not a set');
        for (const it of items) (s as Set<unknown>).add(it);
        break;
      }
      case OP.APPEND: {
        const v = pop();
        asList(top(), 'APPEND').push(v);
        break;
      }
      case OP.APPENDS: {
        const items = popMark();
        const l = asList(top(), 'APPENDS');
        for (const it of items) l.push(it);
        break;
      }
      case OP.SETITEM: {
        const v = pop();
        const k = pop();
        asMap(top(), 'SETITEM').set(k, v);
        break;
      }
      case OP.SETITEMS: {
        const items = popMark();
        if (items.length % 2) fail('SETITEMS with an odd number of items');
        const d = asMap(top(), 'SETITEMS');
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }

      // Memo.
      case OP.BINPUT:
        memo.set(cur.u8(), top());
        break;
      case OP.LONG_BINPUT:
        memo.set(cur.u32(), top());
        break;
      case OP.PUT: {
        const s = cur.line();
        if (!/^\d+$/.test(s)) fail(`bad PUT index ${JSON.stringify(s)}`);
        memo.set(Number(s), top());
        break;
      }
      case OP.MEMOIZE:
        memo.set(memo.size, top());
        break;
      case OP.BINGET:
        stack.push(memoGet(cur.u8()));
        break;
      case OP.LONG_BINGET:
        stack.push(memoGet(cur.u32()));
        break;
      case OP.GET: {
        const s = cur.line();
        if (!/^\d+$/.test(s)) fail(`bad GET index ${JSON.stringify(s)}`);
        stack.push(memoGet(Number(s)));
        break;
      }

      // Objects.
      case OP.BINPERSID:
        stack.push(persistent(pop()));
        break;
      case OP.PERSID:
        stack.push(persistent(cur.line()));
        break;
      case OP.GLOBAL: {
        const module = cur.line();
        const name = cur.line();
        stack.push(new PickleGlobal(module, name));
        break;
      }
      case OP.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof name !== 'string' || typeof module !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(new PickleGlobal(module as string, name as string));
        break;
      }
      case OP.REDUCE: {
        const args = pop();
        const callable = pop();
        stack.push(call(callable, args));
        break;
      }
      case OP.NEWOBJ: {
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case OP.NEWOBJ_EX: {
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (kwargs instanceof Map && kwargs.size > 0) fail('NEWOBJ_EX with keyword arguments is not supported');
        stack.push(call(cls, args));
        break;
      }
      case OP.BUILD: {
        const state = pop();
        const obj = top();
        const handler = obj !== null && typeof obj === 'object' ? madeBy.get(obj) : undefined;
        if (handler?.setState) {
          try {
            handler.setState(obj, state);
          } catch (e) {
            fail(`cannot set state: ${(e as Error).message}`, opStart, e);
          }
        } else if (obj instanceof PickleObject) {
          obj.state = state;
        } else if (obj instanceof Map && state instanceof Map) {
          for (const [k, v] of state) obj.set(k, v);
        } else {
          fail('BUILD on an object that takes no state');
        }
        break;
      }
      default:
        fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
