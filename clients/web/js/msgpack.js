// MessagePack (https://msgpack.org spec) for the `switchboard.v1.msgpack` subprotocol.
// encode(value) -> Uint8Array; decode(bytes) -> value. Maps decode to plain objects,
// bin to Uint8Array, timestamps (ext -1) to Date, other ext types to Ext, 64-bit integers to
// Number when safe and BigInt otherwise. Pure code, no dependencies, no build step.

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_DEPTH = 512;

export class Ext {
  constructor(type, data) {
    this.type = type;
    this.data = data;
  }
}

export function encode(value) {
  const w = new Writer();
  w.value(value, 0);
  return w.buf.subarray(0, w.pos);
}

class Writer {
  constructor() {
    this.buf = new Uint8Array(256);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
  }

  room(n) {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(b) { this.room(1); this.buf[this.pos++] = b; }
  head(b, setter, n, x) { this.room(1 + n); this.buf[this.pos++] = b; this.view[setter](this.pos, x); this.pos += n; }
  raw(bytes) { this.room(bytes.length); this.buf.set(bytes, this.pos); this.pos += bytes.length; }

  value(v, depth) {
    if (depth > MAX_DEPTH) throw new RangeError('msgpack: nested too deep');
    if (v === null || v === undefined) return this.u8(0xc0);
    switch (typeof v) {
      case 'boolean': return this.u8(v ? 0xc3 : 0xc2);
      case 'number': return Number.isSafeInteger(v) ? this.int(v) : this.head(0xcb, 'setFloat64', 8, v);
      case 'bigint': return this.bigint(v);
      case 'string': return this.str(v);
      default: break;
    }
    if (v instanceof Uint8Array || v instanceof ArrayBuffer) return this.bin(new Uint8Array(v));
    if (Array.isArray(v)) {
      this.length(v.length, 0x90, 16, 0xdc, 0xdd);
      for (const item of v) this.value(item, depth + 1);
      return undefined;
    }
    if (v instanceof Ext) return this.ext(v.type, v.data);
    if (v instanceof Date) return this.timestamp(v);
    const entries = (v instanceof Map ? [...v.entries()] : Object.entries(v))
      .filter(([, x]) => x !== undefined); // like JSON: undefined fields are left out
    this.length(entries.length, 0x80, 16, 0xde, 0xdf);
    for (const [k, x] of entries) {
      this.value(k, depth + 1);
      this.value(x, depth + 1);
    }
    return undefined;
  }

  int(v) {
    if (v >= 0) {
      if (v < 0x80) return this.u8(v);
      if (v < 0x100) return this.head(0xcc, 'setUint8', 1, v);
      if (v < 0x10000) return this.head(0xcd, 'setUint16', 2, v);
      if (v < 0x100000000) return this.head(0xce, 'setUint32', 4, v);
      return this.head(0xcf, 'setBigUint64', 8, BigInt(v));
    }
    if (v >= -32) return this.u8(v & 0xff);
    if (v >= -0x80) return this.head(0xd0, 'setInt8', 1, v);
    if (v >= -0x8000) return this.head(0xd1, 'setInt16', 2, v);
    if (v >= -0x80000000) return this.head(0xd2, 'setInt32', 4, v);
    return this.head(0xd3, 'setBigInt64', 8, BigInt(v));
  }

  bigint(v) {
    if (v >= -(2n ** 63n) && v < 0n) return this.head(0xd3, 'setBigInt64', 8, v);
    if (v >= 0n && v < 2n ** 64n) return this.head(0xcf, 'setBigUint64', 8, v);
    throw new RangeError('msgpack: integer does not fit in 64 bits');
  }

  str(s) {
    const bytes = utf8.encode(s);
    const n = bytes.length;
    if (n < 32) this.u8(0xa0 | n);
    else if (n < 0x100) this.head(0xd9, 'setUint8', 1, n);
    else if (n < 0x10000) this.head(0xda, 'setUint16', 2, n);
    else this.head(0xdb, 'setUint32', 4, n);
    this.raw(bytes);
  }

  bin(bytes) {
    const n = bytes.length;
    if (n < 0x100) this.head(0xc4, 'setUint8', 1, n);
    else if (n < 0x10000) this.head(0xc5, 'setUint16', 2, n);
    else this.head(0xc6, 'setUint32', 4, n);
    this.raw(bytes);
  }

  length(n, fix, fixMax, h16, h32) {
    if (n < fixMax) this.u8(fix | n);
    else if (n < 0x10000) this.head(h16, 'setUint16', 2, n);
    else this.head(h32, 'setUint32', 4, n);
  }

  ext(type, data) {
    const n = data.length;
    const fixed = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 }[n];
    if (fixed) this.u8(fixed);
    else if (n < 0x100) this.head(0xc7, 'setUint8', 1, n);
    else if (n < 0x10000) this.head(0xc8, 'setUint16', 2, n);
    else this.head(0xc9, 'setUint32', 4, n);
    this.u8(type & 0xff);
    this.raw(data);
  }

  timestamp(date) {
    const ms = date.getTime();
    const sec = Math.floor(ms / 1000);
    const nsec = (ms - sec * 1000) * 1e6;
    const data = new Uint8Array(12);
    const view = new DataView(data.buffer);
    view.setUint32(0, nsec);
    view.setBigInt64(4, BigInt(sec));
    this.ext(-1, data); // the 96-bit form: any date, before 1970 too
  }
}

export function decode(input) {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const r = new Reader(bytes);
  const v = r.value(0);
  if (r.pos !== bytes.length) throw new RangeError('msgpack: extra bytes after the value');
  return v;
}

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  need(n) {
    if (this.pos + n > this.bytes.length) throw new RangeError('msgpack: truncated data');
  }

  num(getter, n) {
    this.need(n);
    const v = this.view[getter](this.pos);
    this.pos += n;
    return v;
  }

  big(getter) {
    const v = this.num(getter, 8);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  take(n) {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  value(depth) {
    if (depth > MAX_DEPTH) throw new RangeError('msgpack: nested too deep');
    const b = this.num('getUint8', 1);
    if (b < 0x80) return b;
    if (b < 0x90) return this.map(b & 0x0f, depth);
    if (b < 0xa0) return this.array(b & 0x0f, depth);
    if (b < 0xc0) return fromUtf8.decode(this.take(b & 0x1f));
    if (b >= 0xe0) return b - 0x100;
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.take(this.num('getUint8', 1)).slice();
      case 0xc5: return this.take(this.num('getUint16', 2)).slice();
      case 0xc6: return this.take(this.num('getUint32', 4)).slice();
      case 0xc7: return this.ext(this.num('getUint8', 1));
      case 0xc8: return this.ext(this.num('getUint16', 2));
      case 0xc9: return this.ext(this.num('getUint32', 4));
      case 0xca: return this.num('getFloat32', 4);
      case 0xcb: return this.num('getFloat64', 8);
      case 0xcc: return this.num('getUint8', 1);
      case 0xcd: return this.num('getUint16', 2);
      case 0xce: return this.num('getUint32', 4);
      case 0xcf: return this.big('getBigUint64');
      case 0xd0: return this.num('getInt8', 1);
      case 0xd1: return this.num('getInt16', 2);
      case 0xd2: return this.num('getInt32', 4);
      case 0xd3: return this.big('getBigInt64');
      case 0xd4: return this.ext(1);
      case 0xd5: return this.ext(2);
      case 0xd6: return this.ext(4);
      case 0xd7: return this.ext(8);
      case 0xd8: return this.ext(16);
      case 0xd9: return fromUtf8.decode(this.take(this.num('getUint8', 1)));
      case 0xda: return fromUtf8.decode(this.take(this.num('getUint16', 2)));
      case 0xdb: return fromUtf8.decode(this.take(this.num('getUint32', 4)));
      case 0xdc: return this.array(this.num('getUint16', 2), depth);
      case 0xdd: return this.array(this.num('getUint32', 4), depth);
      case 0xde: return this.map(this.num('getUint16', 2), depth);
      case 0xdf: return this.map(this.num('getUint32', 4), depth);
      default: throw new RangeError(`msgpack: 0x${b.toString(16)} is not a type byte`);
    }
  }

  array(n, depth) {
    this.need(n); // every item takes at least one byte: refuse absurd lengths early
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  map(n, depth) {
    this.need(2 * n);
    const out = {};
    for (let i = 0; i < n; i++) {
      const k = this.value(depth + 1);
      const v = this.value(depth + 1);
      // A "__proto__" key from the wire must stay a key, not set the object's prototype.
      Object.defineProperty(out, String(k), { value: v, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  ext(n) {
    const type = this.num('getInt8', 1);
    const data = this.take(n);
    if (type !== -1) return new Ext(type, data.slice());
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (n === 4) return new Date(view.getUint32(0) * 1000);
    if (n === 8) {
      const hi = view.getUint32(0);
      const nsec = hi >>> 2;
      const sec = (hi & 0x3) * 2 ** 32 + view.getUint32(4);
      return new Date(sec * 1000 + Math.floor(nsec / 1e6));
    }
    if (n === 12) return new Date(Number(view.getBigInt64(4)) * 1000 + Math.floor(view.getUint32(0) / 1e6));
    throw new RangeError(`msgpack: a timestamp of ${n} bytes`);
  }
}
